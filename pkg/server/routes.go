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
	// The widget's calls, from other sites' pages.
	api.Options("/links", s.widgetCORS())
	api.Post("/links", s.widgetCORS(), s.mintLinks())
	api.Options("/shares", s.widgetCORS())
	api.Post("/shares", s.widgetCORS(), s.shareRateLimit(), s.recordShare())
	// The site owner's.
	api.Get("/links/:code/stats", s.linkStatsJSON())
	api.Get("/stats", s.pageStatsJSON())

	for _, a := range s.assets {
		app.Get(a.stablePath, serveAsset(a, stableAssetCache))
		app.Get(a.hashedPath, serveAsset(a, hashedAssetCache))
	}
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))

	app.Get("/", s.index())
	app.Get("/login", s.loginForm())
	app.Post("/login", s.login())
	app.Post("/logout", s.logout())
	app.Get("/stats/:code", s.linkStatsPage())
	app.Get(DemoPath, s.demo())

	// Get also answers HEAD, with the same headers and no body.
	app.Get("/:code/qr.png", s.qrCode())
	app.Get("/:code", s.redirect())
}
