package server

import "github.com/gofiber/fiber/v2"

// recordView counts a page view reported by the landing beacon.
func (s *server) recordView() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
}
