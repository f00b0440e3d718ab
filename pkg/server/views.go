package server

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/track"
)

// viewRequest is what beacon.js sends for each page view.
type viewRequest struct {
	URL      string `json:"url"`      // the page's address, without the marker
	Referrer string `json:"referrer"` // document.referrer
	Marker   string `json:"marker"`   // the landing marker's code, or ""
	Kind     string `json:"kind"`     // the page's og:type, or ""
}

// recordView counts a page view reported by the landing beacon. It comes by
// sendBeacon, as text/plain, and nobody reads the answer: 204 whether or
// not the view counted (bots' views do not). Pages of hosts not on the
// allow-list are refused. Only the page, the day and the class are kept:
// the user agent and address serve the classification and are dropped.
func (s *server) recordView() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req viewRequest
		if err := decodeJSON(c.Body(), &req); err != nil {
			return err
		}
		page, err := s.Links.Page(req.URL)
		if err != nil {
			return err
		}
		marker, err := s.validMarker(c, req.Marker)
		if err != nil {
			return err
		}
		l, ok := s.Classifier.ClassifyView(track.View{
			Page: page, Kind: req.Kind, Referrer: req.Referrer,
			UserAgent: c.Get(fiber.HeaderUserAgent), IP: s.clientIP(c), Marker: marker,
		})
		if !ok {
			return c.SendStatus(fiber.StatusNoContent)
		}
		s.Stats.RecordView(page, today(c), l)
		s.Metrics.views[l].Inc()
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// validMarker reports whether code is that of an existing, enabled link.
// Anything else, malformed codes included, is as if there were no marker:
// a view is never refused for it. It returns an error only when the link
// could not be looked up.
func (s *server) validMarker(c *fiber.Ctx, code string) (bool, error) {
	if code == "" {
		return false, nil
	}
	r, err := s.Links.Route(c.UserContext(), code)
	switch {
	case errors.Is(err, link.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up the landing marker: %w", err)
	}
	return !r.Disabled, nil
}
