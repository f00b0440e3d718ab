package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/darkshare/darkshare/store/storetest"
)

// newEnvDeps is newTestEnv's app on a fresh db, with its Deps changed by
// change: as a PostgreSQL backend gives them (no Backup, a Ping).
func newEnvDeps(t *testing.T, change func(*Deps)) *testEnv {
	t.Helper()
	return newEnv(t, storetest.MustOpen(t), "https://s.test", envSpec{deps: change})
}

// A server whose data is in PostgreSQL has no file to stream: the backup
// route says how to back up instead, as a JSON error, to the admin only.
func TestBackupElsewhere(t *testing.T) {
	env := newEnvDeps(t, func(d *Deps) { d.Backup = nil })
	resp, body := env.do(t, http.MethodGet, "/api/v1/admin/backup", "", env.bearer())
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `"code":"backup_elsewhere"`) ||
		!strings.Contains(body, "pg_dump --exclude-table-data=salts") {
		t.Fatalf("backup without a file: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/admin/backup", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous backup: %d, want 401", resp.StatusCode)
	}
}

// /healthz says when the database stops answering, without the driver's
// words, and that redirects go on meanwhile; and says so again when it is back.
func TestHealthReportsALostDatabase(t *testing.T) {
	var down atomic.Bool
	env := newEnvDeps(t, func(d *Deps) {
		d.Ping = func(context.Context) error {
			if down.Load() {
				return errors.New("dial tcp 10.0.0.5:5432: connection refused")
			}
			return nil
		}
	})
	code := env.mint(t, `{"url":"https://news.example.org/h","channels":["sms"]}`, nil).Links[0].Code
	down.Store(true) // before the first check: nothing is cached yet
	resp, body := env.do(t, http.MethodGet, "/healthz", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"failing"`) ||
		!strings.Contains(body, "database does not answer") || strings.Contains(body, "10.0.0.5") {
		t.Fatalf("database down: %d %s (want 503, a reason, no internal text)", resp.StatusCode, body)
	}
	if resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("a redirect while the database is down: %d", resp.StatusCode)
	}
}

// A check pings once, and its answer stands for pingCacheFor: a flood of
// checks, concurrent or not, reaches the database once a second at most.
// A ping that hangs is cut off at pingTimeout.
func TestDBHealthPingsOncePerSecond(t *testing.T) {
	var (
		pings atomic.Int32
		fail  atomic.Bool
	)
	now := time.Unix(1_700_000_000, 0)
	var clock sync.Mutex
	h := newDBHealth(func(ctx context.Context) error {
		pings.Add(1)
		if fail.Load() {
			return errors.New("down")
		}
		return nil
	}, func() time.Time { clock.Lock(); defer clock.Unlock(); return now }, slog.New(slog.DiscardHandler))
	advance := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := h.check(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := pings.Load(); n != 1 {
		t.Fatalf("50 concurrent checks pinged %d times, want 1", n)
	}
	fail.Store(true)
	advance(pingCacheFor - time.Millisecond)
	if err := h.check(context.Background()); err != nil || pings.Load() != 1 {
		t.Fatalf("within the second: %v after %d pings; want the cached answer", err, pings.Load())
	}
	advance(time.Millisecond)
	if err := h.check(context.Background()); err == nil || pings.Load() != 2 {
		t.Fatalf("after the second: %v after %d pings; want a new ping's failure", err, pings.Load())
	}
	fail.Store(false)
	advance(pingCacheFor)
	if err := h.check(context.Background()); err != nil {
		t.Fatalf("back: %v", err)
	}

	hang := newDBHealth(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, time.Now, slog.New(slog.DiscardHandler))
	if err := hang.check(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hanging ping: %v, want it cut off", err)
	}
	if err := newDBHealth(nil, time.Now, nil).check(context.Background()); err != nil {
		t.Fatalf("no database to ping: %v", err)
	}
}
