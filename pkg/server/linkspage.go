package server

import "github.com/gofiber/fiber/v2"

// linksPage lists links for the admin.
func (s *server) linksPage() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
}

// linksPageSetDisabled is the links page's disable / enable form.
func (s *server) linksPageSetDisabled() fiber.Handler {
	return func(c *fiber.Ctx) error { return fiber.ErrNotImplemented }
}
