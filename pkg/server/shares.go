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
}

// recordShare counts a press on a share button. The widget sends it with
// sendBeacon, so the body arrives as text/plain and nobody reads the answer.
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
		s.Stats.Add(l.Code, today(c), stats.Shares)
		s.Metrics.shares.Inc()
		return c.SendStatus(fiber.StatusNoContent)
	}
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
