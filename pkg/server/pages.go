package server

import (
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/gofiber/fiber/v2"
)

// pageCSP allows nothing but this origin's own files: no inline script, no
// other host, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// page renders an HTML page with the headers every page carries. Stats URLs
// hold a secret key, so no other origin may see them as a referrer; this
// origin must, since the CSRF check compares it on HTTPS form posts.
func (s *server) page(c *fiber.Ctx, status int, name string, data any) error {
	body, err := s.pages.Render(name, data)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(body)
}

func apiHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

func (s *server) index() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.layout(c)
		if err != nil {
			return err
		}
		return s.page(c, fiber.StatusOK, "index.html", b)
	}
}

// requestTime is when the request came, as fasthttp read it once for the
// request, so handlers need no clock read of their own. A handler called
// outside fasthttp's server (benchmarks do) gets the current time.
func requestTime(c *fiber.Ctx) time.Time {
	if t := c.Context().Time(); !t.IsZero() {
		return t
	}
	return time.Now()
}

// today is the UTC day of the request.
func today(c *fiber.Ctx) stats.Day { return stats.DayOf(requestTime(c)) }
