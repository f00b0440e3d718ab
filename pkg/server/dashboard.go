package server

import "github.com/gofiber/fiber/v2"

// dashboard is the site-wide report.
func (s *server) dashboard() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
}

// export streams per-link, per-day counts.
func (s *server) export() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
}
