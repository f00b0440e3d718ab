// Package server is darkshare's HTTP layer: a thin Fiber app over the domain
// services of pkg/link, pkg/stats and pkg/auth.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

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
	// TrustedProxies are the only peers whose proxy headers are believed:
	// ClientIPHeader for the client address, X-Forwarded-Proto and
	// X-Forwarded-Host for what Fiber derives from them.
	TrustedProxies []netip.Prefix
	// ClientIPHeader is the one header trusted proxies name the client in.
	ClientIPHeader track.ProxyHeader
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
	// Backup writes a consistent snapshot of the db to w; nil where the
	// database's own tools take backups (ErrBackupElsewhere).
	Backup func(w io.Writer) (int64, error)
	// Ping checks that the database answers, for /healthz; nil for one
	// that cannot go away while the process runs (a local file).
	Ping func(context.Context) error
}

const (
	// bodyLimit fits a mint request with a maximal URL and every channel, and
	// the login form, with room to spare.
	bodyLimit = 16 << 10
	// readBufferSize bounds the request line plus headers: a stats query
	// carries a full page URL, percent-encoded.
	readBufferSize = 16 << 10
)

// server holds what handlers share. It has no mutable state but what
// locks itself (mints, guesses).
type server struct {
	base   string // BaseURL without trailing slash
	https  bool
	cfg    Config
	log    *slog.Logger
	pages  *templates.Set
	assets map[string]asset // widget files by name
	mints  mintAnswers
	Deps

	guesses *guesses  // the guessing limit, per address
	db      *dbHealth // whether the database answers
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
	s.guesses = newGuesses(cfg.Limits.Login, time.Now)
	s.db = newDBHealth(deps.Ping, time.Now, cfg.Logger)
	app := fiber.New(fiber.Config{
		AppName:               "darkshare",
		DisableStartupMessage: true,
		BodyLimit:             bodyLimit,
		ReadBufferSize:        readBufferSize,
		ErrorHandler:          s.handleError,
		JSONEncoder:           marshalJSON,
		// Without the check Fiber believes X-Forwarded-Proto and
		// X-Forwarded-Host from any peer.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          prefixStrings(cfg.TrustedProxies),
		// No Read/Write/IdleTimeout here: the Listener applies cfg.Conns at
		// a fraction of fasthttp's per-request cost.
	})
	s.routes(app)
	return app, nil
}

// marshalJSON is json.Marshal without HTML escaping, so that the URLs in
// answers read as written ("&", not "\u0026"). No page renders this JSON:
// html/template escapes whatever a template shows.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// clientIP is the address of the client: the socket's, or the one trusted
// proxies report. It is used for rate limits and visitor hashes, never stored.
func (s *server) clientIP(c *fiber.Ctx) netip.Addr {
	remote, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	remote = remote.Unmap()
	if len(s.cfg.TrustedProxies) == 0 {
		return remote
	}
	return track.ClientIP(remote, s.cfg.ClientIPHeader, s.proxyHeader(c), s.cfg.TrustedProxies)
}

// proxyHeader returns the client-address header's value. Every
// X-Forwarded-For line counts: a proxy may append its own line instead of
// extending the client's.
func (s *server) proxyHeader(c *fiber.Ctx) string {
	lines := c.Request().Header.PeekAll(s.cfg.ClientIPHeader.String())
	if len(lines) == 1 {
		return string(lines[0])
	}
	joined := make([]string, len(lines))
	for i, l := range lines {
		joined[i] = string(l)
	}
	return strings.Join(joined, ",")
}

func prefixStrings(prefixes []netip.Prefix) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p.String()
	}
	return out
}

func (s *server) shortURL(code string) string { return s.base + "/" + code }
func (s *server) qrURL(code string) string    { return s.base + "/" + code + "/qr.png" }
func (s *server) statsURL(l link.Link) string {
	return s.base + "/stats/" + l.Code + "?key=" + url.QueryEscape(l.StatsKey)
}
