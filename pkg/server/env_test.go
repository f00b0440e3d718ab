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
	token    string // the admin token
	base     string // base URL of short links
	cfg      Config
	ln       *Listener // set by startServer
}

// newTestEnv builds the app for base, on db.
func newTestEnv(t testing.TB, db *store.DB, base string) *testEnv {
	t.Helper()
	return newTestEnvCounts(t, db, base, db)
}

// newTestEnvCounts is newTestEnv with click counts kept in counts.
func newTestEnvCounts(t testing.TB, db *store.DB, base string, counts stats.Store) *testEnv {
	t.Helper()
	return newTestEnvPolicy(t, db, base, counts, func(*link.Policy) {})
}

// newTestEnvPolicy is newTestEnvCounts with the link policy changed by policy.
func newTestEnvPolicy(t testing.TB, db *store.DB, base string, counts stats.Store, policy func(*link.Policy)) *testEnv {
	t.Helper()
	return newTestEnvWith(t, db, base, counts, policy, func(*Config) {})
}

// newTestEnvConfig is newTestEnv with the server's config changed by config.
func newTestEnvConfig(t testing.TB, db *store.DB, base string, config func(*Config)) *testEnv {
	t.Helper()
	return newTestEnvWith(t, db, base, db, func(*link.Policy) {}, config)
}

func newTestEnvWith(t testing.TB, db *store.DB, base string, counts stats.Store, policy func(*link.Policy), config func(*Config)) *testEnv {
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
	allow, err := link.ParseHostList(testAllowList)
	if err != nil {
		t.Fatal(err)
	}
	block, err := link.ParseHostList(testBlockList)
	if err != nil {
		t.Fatal(err)
	}
	p := link.Policy{Allow: allow, Block: block, BaseURL: base, SelfTargets: []string{base + DemoPath}}
	policy(&p)
	links, err := link.NewService(db, p)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	agg := stats.NewAggregator(counts, log)
	visitors, err := track.NewHasher(ctx, db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{BaseURL: base, Logger: log, TrustedProxies: testProxies, Limits: DefaultLimits, Conns: DefaultConns()}
	config(&cfg)
	app, err := New(cfg,
		Deps{Links: links, Stats: agg, Auth: admin, Classifier: track.NewClassifier(), Visitors: visitors,
			Metrics: NewMetrics(MetricsSources{Pending: agg.Pending, DBSize: db.Size}), Backup: db.Backup})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{app: app, db: db, agg: agg, visitors: visitors, token: token, base: base, cfg: cfg}
}

// startServer runs the app on a real listener on 127.0.0.1 and stops it at cleanup.
func startServer(t testing.TB) *testEnv {
	t.Helper()
	return startServerConfig(t, func(*Config) {})
}

// startServerConfig is startServer with the app's Config changed by config.
func startServerConfig(t testing.TB, config func(*Config)) *testEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.MustOpen(t)
	env := newTestEnvWith(t, db, "http://"+ln.Addr().String(), db, func(*link.Policy) {}, config)
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
