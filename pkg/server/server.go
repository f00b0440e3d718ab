// Package server is darkshare's HTTP layer: a thin Fiber app over the domain
// services of pkg/link, pkg/stats and pkg/auth.
package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/templates"
)

// Config is what the app needs to know about where it runs.
type Config struct {
	// BaseURL prefixes every short URL handed out, e.g. "https://s.example.org".
	BaseURL string
	Logger  *slog.Logger
	// TrustedProxies are the only peers whose X-Forwarded-For and X-Real-IP
	// headers are believed.
	TrustedProxies []netip.Prefix
	// Limits are the per-client rate limits; the zero value turns them off.
	Limits Limits
	// AccessLog logs every request (never the client address or query).
	AccessLog bool
	// Pprof serves /debug/pprof/ to admins.
	Pprof bool
	// Conns are the connection timeouts and caps, which the Listener
	// applies: serve the app on NewListener.
	Conns Conns
}

// Deps are the domain services the handlers call.
type Deps struct {
	Links      *link.Service
	Stats      *stats.Aggregator
	Auth       *auth.Service
	Classifier *track.Classifier
	Visitors   *track.Hasher
	Metrics    *Metrics
	// Backup writes a consistent snapshot of the db to w.
	Backup func(w io.Writer) (int64, error)
}

const (
	// bodyLimit fits a mint request with a maximal URL and every channel, and
	// the login form, with room to spare.
	bodyLimit = 16 << 10
	// readBufferSize bounds the request line plus headers: a stats query
	// carries a full page URL, percent-encoded.
	readBufferSize = 16 << 10
)

// server holds what handlers share. It has no mutable state.
type server struct {
	base   string // BaseURL without trailing slash
	https  bool
	cfg    Config
	log    *slog.Logger
	pages  *templates.Set
	assets map[string]asset // widget files by name
	mints  mintAnswers
	Deps
}

// New returns the Fiber app serving darkshare. It parses every template, so a
// broken one fails here rather than on a request.
func New(cfg Config, deps Deps) (*fiber.App, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("base url %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	pages, err := templates.Parse()
	if err != nil {
		return nil, err
	}
	assets, err := widgetAssets()
	if err != nil {
		return nil, err
	}
	s := &server{
		base:   strings.TrimSuffix(cfg.BaseURL, "/"),
		https:  base.Scheme == "https",
		cfg:    cfg,
		log:    cfg.Logger,
		pages:  pages,
		assets: assets,
		Deps:   deps,
	}
	app := fiber.New(fiber.Config{
		AppName:               "darkshare",
		DisableStartupMessage: true,
		BodyLimit:             bodyLimit,
		ReadBufferSize:        readBufferSize,
		ErrorHandler:          s.handleError,
		// No Read/Write/IdleTimeout here: the Listener applies cfg.Conns at
		// a fraction of fasthttp's per-request cost.
	})
	s.routes(app)
	return app, nil
}

// clientIP is the address of the client: the socket's, or the one trusted
// proxies report. It is used for rate limits and visitor hashes, never stored.
func (s *server) clientIP(c *fiber.Ctx) netip.Addr {
	remote, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	remote = remote.Unmap()
	if len(s.cfg.TrustedProxies) == 0 {
		return remote
	}
	return track.ClientIP(remote, c.Get(fiber.HeaderXForwardedFor), c.Get("X-Real-Ip"), s.cfg.TrustedProxies)
}

func (s *server) shortURL(code string) string { return s.base + "/" + code }
func (s *server) qrURL(code string) string    { return s.base + "/" + code + "/qr.png" }
func (s *server) statsURL(l link.Link) string {
	return s.base + "/stats/" + l.Code + "?key=" + url.QueryEscape(l.StatsKey)
}
