package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/darkshare/darkshare/store/storetest"
)

// Pages keep nothing per visitor: a flood of first visits (no cookies, so
// each would get a new CSRF token) leaves the heap where it was.
func TestPageFloodKeepsNoStatePerVisitor(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 requests")
	}
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	get := func(path string) {
		resp, err := env.app.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	for range 1000 { // warm up pools and caches
		get("/login")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 10_000
	for range n {
		get("/login")
		get("/")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Fiber's csrf middleware, with its in-memory storage, kept about 160
	// bytes a view: 3 MiB here.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Fatalf("%d page views without cookies grew the heap by %d KiB", 2*n, grew>>10)
	}
}
