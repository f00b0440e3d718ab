package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

// testAllowList is the allow-list every test server runs with.
// 127.0.0.1 lets a page on a second local origin embed the widget.
const testAllowList = "news.example.org,*.example.com,127.0.0.1"

// testBlockList is the blocklist every test server runs with.
const testBlockList = "blocked.test,*.evil.example.com"

// testProxies are trusted to report client addresses in X-Forwarded-For;
// app.Test's requests come from 0.0.0.0.
var testProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32"), netip.MustParsePrefix("127.0.0.1/32")}

// testEnv is a whole darkshare app over a real bbolt file in t.TempDir().
type testEnv struct {
	app      *fiber.App
	db       *store.DB
	agg      *stats.Aggregator
	visitors *track.Hasher
	links    *link.Service
	token    string // the admin token
	base     string // base URL of short links
	cfg      Config
	ln       *Listener // set by startServer
}

// newTestEnv builds the app for base, on db.
func newTestEnv(t testing.TB, db *store.DB, base string) *testEnv {
	t.Helper()
	return newEnv(t, db, base, envSpec{})
}

// envSpec is how a test's app differs from the default one, which keeps
// everything in db. Every field may be left zero.
type envSpec struct {
	counts stats.Store     // click counts; nil: db
	links  link.Store      // links; nil: db
	feed   link.ChangeFeed // the shared store's change feed, with links
	policy func(*link.Policy)
	config func(*Config)
	deps   func(*Deps) // e.g. as a PostgreSQL backend gives them: no Backup, a Ping
}

// newEnv is the one way tests build an app: the admin token, salts and by
// default links and counts in db, the rest as spec says.
func newEnv(t testing.TB, db *store.DB, base string, spec envSpec) *testEnv {
	t.Helper()
	ctx := context.Background()
	admin := auth.NewService(db, db)
	token, err := admin.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if token == "" { // a db reused from an earlier env: take a fresh token
		if token, err = admin.ResetAdminToken(ctx); err != nil {
			t.Fatal(err)
		}
	}
	links := newTestLinks(t, db, base, spec)
	counts := spec.counts
	if counts == nil {
		counts = db
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	agg := stats.NewAggregator(counts, log)
	visitors, err := track.NewHasher(ctx, db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{BaseURL: base, Logger: log, TrustedProxies: testProxies, Limits: DefaultLimits, Conns: DefaultConns()}
	if spec.config != nil {
		spec.config(&cfg)
	}
	deps := Deps{Links: links, Stats: agg, Auth: admin, Classifier: track.NewClassifier(), Visitors: visitors,
		Metrics: NewMetrics(MetricsSources{Pending: agg.Pending, DBSize: db.Size}), Backup: db.Backup}
	if spec.deps != nil {
		spec.deps(&deps)
	}
	app, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{app: app, db: db, agg: agg, visitors: visitors, links: links, token: token, base: base, cfg: cfg}
}

// newTestLinks is the link service of newEnv, with its routes loaded as a
// starting server loads them.
func newTestLinks(t testing.TB, db *store.DB, base string, spec envSpec) *link.Service {
	t.Helper()
	allow, err := link.ParseHostList(testAllowList)
	if err != nil {
		t.Fatal(err)
	}
	block, err := link.ParseHostList(testBlockList)
	if err != nil {
		t.Fatal(err)
	}
	p := link.Policy{Allow: allow, Block: block, BaseURL: base, SelfTargets: []string{base + DemoPath}, Feed: spec.feed}
	if spec.policy != nil {
		spec.policy(&p)
	}
	var linkStore link.Store = db
	if spec.links != nil {
		linkStore = spec.links
	}
	links, err := link.NewService(linkStore, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := links.LoadRoutes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return links
}

// startServer runs the app on a real listener on 127.0.0.1 and stops it at cleanup.
func startServer(t testing.TB) *testEnv {
	t.Helper()
	return startServerConfig(t, func(*Config) {})
}

// startServerConfig is startServer with the app's Config changed by config.
func startServerConfig(t testing.TB, config func(*Config)) *testEnv {
	t.Helper()
	return startServerSpec(t, envSpec{config: config})
}

// startServerSpec is startServer with the app spec describes.
func startServerSpec(t testing.TB, spec envSpec) *testEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.MustOpen(t)
	env := newEnv(t, db, "http://"+ln.Addr().String(), spec)
	env.ln = NewListener(ln, env.cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = env.app.Listener(env.ln)
	}()
	t.Cleanup(func() {
		if err := Shutdown(env.app, env.ln, time.Minute); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		_ = env.ln.Close() // Shutdown misses a listener that Serve has not registered yet
		<-done
		if err := env.agg.Flush(context.Background()); err != nil {
			t.Errorf("final flush: %v", err)
		}
	})
	return env
}

type header map[string]string

// do sends a request through the whole app and returns the response and body.
// Requests carry a desktop Chrome user agent unless h sets one.
func (e *testEnv) do(t testing.TB, method, target, body string, h header) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// A person's browser unless the test says otherwise ("" sends none).
	req.Header.Set("User-Agent", chromeDesktop)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(bytes.TrimSpace(b))
}

func (e *testEnv) bearer() header { return header{"Authorization": "Bearer " + e.token} }

// live sends a request as the admin to the server on its real listener and
// decodes a JSON answer into out. It fails the test unless the status is want.
func (e *testEnv) live(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}
