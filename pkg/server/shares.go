package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

type shareRequest struct {
	Code string `json:"code"`
	// Via is the code of the short link the reader arrived through (the
	// landing marker the widget found), "" if none.
	Via string `json:"via"`
}

// recordShare counts a press on a share button. The widget sends it with
// sendBeacon, so the body arrives as text/plain and nobody reads the answer.
// A share whose via names a link of the same page counts as a reshare of
// that link too. Whatever via holds, the answer is the one an absent via
// gets: via is looked up as the code itself is, so it tells a caller
// nothing the code would not.
func (s *server) recordShare() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req shareRequest
		if err := decodeJSON(c.Body(), &req); err != nil {
			return err
		}
		l, err := s.Links.Route(c.UserContext(), req.Code)
		if err != nil {
			return err
		}
		if l.Disabled {
			return link.ErrDisabled
		}
		day := today(c)
		s.Stats.Add(l.Code, day, stats.Shares)
		s.Metrics.shares.Inc()
		if from, ok := s.reshareOf(c, l, req.Via); ok {
			s.Stats.RecordReshare(from.Code, day, string(l.Channel))
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// reshareOf returns the link a share through l is a reshare of: the one
// via names, if it is an enabled link of the same page (by page address,
// so that what a campaign or the site adds to the address does not
// matter). Anything else is no reshare: an absent, malformed, unknown or
// disabled via, one of another page, or one that could not be looked up
// (the share still counts).
func (s *server) reshareOf(c *fiber.Ctx, l link.Route, via string) (link.Route, bool) {
	if !link.ValidCode(via) || l.Channel == "" {
		return link.Route{}, false
	}
	from, err := s.Links.Route(c.UserContext(), via)
	if err != nil || from.Disabled {
		return link.Route{}, false
	}
	return from, s.Links.PageOf(from.URL) == s.Links.PageOf(l.URL)
}

// widgetCORS lets pages on allowed hosts call the API from a browser. Other
// origins get no CORS headers, so their browsers keep the answers from them.
// No credentials: the widget never sends cookies.
func (s *server) widgetCORS() fiber.Handler {
	return cors.New(cors.Config{
		AllowOriginsFunc: s.Links.AllowsOrigin,
		AllowMethods:     "POST",
		AllowHeaders:     "Content-Type",
		MaxAge:           int((24 * time.Hour).Seconds()),
	})
}
