package server

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/pprof"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/static"
)

// routes is the whole HTTP surface, with who may call what. The catch-all
// short-link routes come last so they never shadow a fixed path;
// link.ValidCode keeps codes off these names.
func (s *server) routes(app *fiber.App) {
	if s.cfg.AccessLog {
		app.Use(s.accessLog)
	}
	app.Get("/healthz", s.health())
	app.Get("/metrics", s.require(auth.ScopeStatsRead), s.Metrics.handler())

	api := app.Group("/api/v1", apiHeaders)
	// The widget's calls, from other sites' pages: anyone, rate-limited.
	cors := s.widgetCORS()
	api.Options("/links", cors)
	api.Post("/links", cors, s.limit(s.cfg.Limits.Mint, s.mintsFreely), s.mintLinks())
	api.Options("/shares", cors)
	api.Post("/shares", cors, s.limit(s.cfg.Limits.Share, nil), s.recordShare())
	// The landing beacon: every page view of an allowed site (views.go).
	api.Options("/views", cors)
	api.Post("/views", cors, s.limit(s.cfg.Limits.View, nil), s.recordView())
	// Stats: a link's stats key, or a stats:read token (checked inside).
	// Every check of a token or key, on every route, counts wrong ones
	// against the guessing limit (guesses.go), so none can be guessed.
	api.Get("/links/:code/stats", s.linkStatsJSON())
	api.Get("/stats", s.require(auth.ScopeStatsRead), s.pageStatsJSON())
	// Administration.
	admin := s.require(auth.ScopeAdmin)
	api.Get("/links", admin, s.listLinks())
	api.Patch("/links/:code", admin, s.updateLink())
	api.Post("/links/:code/stats-key", admin, s.rotateStatsKey())
	api.Post("/keys", admin, s.createKey())
	api.Get("/keys", admin, s.listKeys())
	api.Delete("/keys/:id", admin, s.revokeKey())
	api.Get("/admin/backup", admin, s.backup())
	api.Get("/admin/export", admin, s.export())
	if s.cfg.Pprof {
		app.Use("/debug/pprof", admin, pprof.New())
	}

	for _, a := range s.assets {
		app.Get(a.stablePath, serveAsset(a, stableAssetCache))
		app.Get(a.hashedPath, serveAsset(a, hashedAssetCache))
	}
	app.Use("/static", staticHeaders, filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))

	// Pages. Their forms carry CSRF tokens (layout), which posts must
	// send back.
	forms := s.csrfProtect()
	app.Get("/", s.index())
	app.Get("/login", s.loginForm())
	app.Post("/login", forms, s.login())
	app.Post("/logout", forms, s.logout())
	app.Get("/stats/:code", s.linkStatsPage())
	app.Get("/stats/:code/export", s.linkStatsExport())
	app.Get("/dashboard", s.dashboard())
	app.Get("/dashboard/page", s.pageReport())
	app.Get("/links", s.linksPage())
	app.Post("/links", forms, s.linksPageCreate())
	app.Post("/links/disable-all", forms, s.linksPageDisableAll())
	app.Post("/links/:code/disabled", forms, s.linksPageSetDisabled())
	app.Get(DemoPath, s.demo())

	// Get also answers HEAD, with the same headers and no body. The
	// redirect goes first, as the busiest route: Fiber tries a request's
	// routes in order, and "/:code" never takes "/{code}/qr.png".
	app.Get("/:code", s.redirect())
	app.Get("/:code/qr.png", s.qrCode())
}
