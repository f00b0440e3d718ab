package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// accessLog logs each request: method, path without its query (stats keys
// travel there), status and duration. Never the client's address or agent.
func (s *server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status, _, _ = classify(err)
	}
	s.log.Info("request", "method", c.Method(), "path", c.Path(), "status", status, "duration", time.Since(start))
	return err
}
