package server

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/darkshare/darkshare/static"
)

// routes is the whole HTTP surface. The catch-all short-link routes come last
// so they never shadow a fixed path; link.ValidCode keeps codes off these names.
func (s *server) routes(app *fiber.App) {
	app.Get("/healthz", s.health())

	api := app.Group("/api/v1", apiHeaders)
	api.Post("/links", s.mintLinks())
	api.Get("/links/:code/stats", s.linkStatsJSON())
	api.Get("/stats", s.pageStatsJSON())

	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))

	app.Get("/", s.index())
	app.Get("/login", s.loginForm())
	app.Post("/login", s.login())
	app.Post("/logout", s.logout())
	app.Get("/stats/:code", s.linkStatsPage())

	// Get also answers HEAD, with the same headers and no body.
	app.Get("/:code/qr.png", s.qrCode())
	app.Get("/:code", s.redirect())
}
