package server

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/store/storetest"
)

func TestGuessKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1":    "2001:db8:1:2::",
		"2001:db8:1:3::1":         "2001:db8:1:3::",
		"fe80::1%eth0":            "fe80::",
		"::1":                     "::",
		"2001:db8:1:2::1%unknown": "2001:db8:1:2::",
	} {
		if got := guessKey(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("guessKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// try checks one credential from addr that is wrong or right, and says
// whether it was checked at all.
func try(g *guesses, addr string, wrong bool) (checked bool, wait time.Duration) {
	done, wait, ok := g.begin(netip.MustParseAddr(addr))
	if ok {
		done(wrong)
	}
	return ok, wait
}

func TestGuessesCountOnlyFailuresPerWindow(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	g := newGuesses(Rate{N: 3, Per: 10 * time.Minute}, clock.now)
	for range 100 { // right credentials never count
		if ok, _ := try(g, "192.0.2.1", false); !ok {
			t.Fatal("a right credential was refused before any failure")
		}
	}
	for i := range 3 {
		if ok, _ := try(g, "192.0.2.1", true); !ok {
			t.Fatalf("wrong credential %d refused under the limit", i+1)
		}
		clock.t = clock.t.Add(time.Minute)
	}
	ok, wait := try(g, "192.0.2.1", false)
	if ok || wait != 7*time.Minute {
		t.Fatalf("over the limit: checked %v, wait %s; want refused for the 7 minutes left of the window", ok, wait)
	}
	if ok, _ := try(g, "192.0.2.2", false); !ok {
		t.Fatal("another address was refused")
	}
	clock.t = clock.t.Add(7 * time.Minute)
	if ok, _ := try(g, "192.0.2.1", false); !ok {
		t.Fatal("still refused after the window ended")
	}

	// One IPv6 /64 is one client.
	for i := range 3 {
		try(g, fmt.Sprintf("2001:db8:0:1::%x", i+1), true)
	}
	if ok, _ := try(g, "2001:db8:0:1:ffff::9", false); ok {
		t.Error("a /64 that made 3 wrong guesses from 3 addresses was not limited")
	}
	if ok, _ := try(g, "2001:db8:0:2::1", false); !ok {
		t.Error("the neighbouring /64 was limited")
	}
}

// Checks under way hold places: a burst of concurrent guesses from an
// address that has failed gets no more checks than the limit has left.
func TestGuessesBoundConcurrentChecks(t *testing.T) {
	g := newGuesses(Rate{N: 5, Per: time.Minute}, time.Now)
	try(g, "192.0.2.1", true)
	var pending []func(bool)
	for range 100 {
		if done, _, ok := g.begin(netip.MustParseAddr("192.0.2.1")); ok {
			pending = append(pending, done)
		}
	}
	if len(pending) != 4 {
		t.Fatalf("%d concurrent checks let through, want the 4 left", len(pending))
	}
	for _, done := range pending {
		done(false)
	}
	if ok, _ := try(g, "192.0.2.1", false); !ok {
		t.Fatal("right credentials used up the limit")
	}
}

func TestGuessesMemoryIsBounded(t *testing.T) {
	g := newGuesses(Rate{N: 10, Per: time.Hour}, time.Now)
	fill := func(from, n int) {
		for i := from; i < from+n; i++ {
			var a [16]byte
			a[0], a[1] = 0x20, 0x01
			binary.BigEndian.PutUint32(a[4:], uint32(i)) // a /64 each
			done, _, _ := g.begin(netip.AddrFrom16(a))
			done(true)
		}
	}
	fill(0, maxGuessers) // warm up: the table full
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fill(maxGuessers, 4*maxGuessers)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(g.addrs); n != maxGuessers || g.order.Len() != maxGuessers {
		t.Fatalf("%d addresses tracked (list %d), want the cap %d", n, g.order.Len(), maxGuessers)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4<<20 {
		t.Fatalf("the heap grew by %d KiB over %d more addresses", grew>>10, 4*maxGuessers)
	}
	t.Logf("full table: %d KiB", before.HeapAlloc>>10)
}

// Every place that checks a secret counts wrong ones against one limit
// per address; over it, even the right secret is refused (429 with
// Retry-After: JSON on the API, a page elsewhere), and the same right
// secret from another address works.
func TestGuessingIsLimitedEverywhere(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	l := env.mint(t, `{"url":"https://news.example.org/guess","channels":["sms"]}`, env.bearer()).Links[0]
	key := url.QueryEscape(statsKeyOf(t, l))
	const (
		byKey    = iota // ?key= in the path: "%s" is the key
		byBearer        // Authorization: Bearer
		byLogin         // the login form's token field
	)
	for i, tt := range []struct {
		name, method, path string
		by                 int
		ok                 int // the right secret's answer; 0: there is none
		json               bool
	}{
		{"stats page ?key=", "GET", "/stats/" + l.Code + "?key=%s", byKey, 200, false},
		{"stats API ?key=", "GET", "/api/v1/links/" + l.Code + "/stats?key=%s", byKey, 200, true},
		{"unknown code with a key", "GET", "/api/v1/links/nosuchcode/stats?key=%s", byKey, 0, true},
		{"metrics", "GET", "/metrics", byBearer, 200, false},
		{"dashboard", "GET", "/dashboard", byBearer, 200, false},
		{"links page", "GET", "/links", byBearer, 200, false},
		{"page report", "GET", "/dashboard/page?url=https://news.example.org/guess", byBearer, 200, false},
		{"admin API", "GET", "/api/v1/keys", byBearer, 200, true},
		{"mint", "POST", "/api/v1/links", byBearer, 200, true},
		{"login form", "POST", "/login", byLogin, 303, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			from := "198.51.100." + strconv.Itoa(i+1)
			send := func(secret string) (*http.Response, string) {
				t.Helper()
				h := header{"X-Forwarded-For": from}
				path, body := tt.path, ""
				switch tt.by {
				case byKey:
					path = fmt.Sprintf(tt.path, secret)
				case byBearer:
					h["Authorization"] = "Bearer " + secret
					if tt.method == "POST" {
						body = `{"url":"https://elsewhere.test/"}`
					}
				case byLogin:
					h["Content-Type"] = "application/x-www-form-urlencoded"
					body = "token=" + url.QueryEscape(secret) + "&" + env.csrfForm(t)
				}
				return env.do(t, tt.method, path, body, h)
			}
			right := env.token
			if tt.by == byKey {
				right = key
			}
			for n := range DefaultLimits.Login.N {
				if resp, _ := send("dsa_guess" + strconv.Itoa(n)); resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode < 400 {
					t.Fatalf("wrong secret %d: %d, want a refusal under the limit", n+1, resp.StatusCode)
				}
			}
			resp, body := send(right)
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("right secret after %d wrong ones: %d (Retry-After %q), want 429", DefaultLimits.Login.N, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if tt.json != strings.Contains(body, `"code":"rate_limited"`) || !tt.json && !strings.Contains(body, "Too many tries") {
				t.Errorf("429 answer: %.300s", body)
			}
			if tt.ok == 0 {
				return
			}
			from = "203.0.113." + strconv.Itoa(i+1)
			if resp, body := send(right); resp.StatusCode != tt.ok {
				t.Errorf("right secret from another address: %d, want %d: %.200s", resp.StatusCode, tt.ok, body)
			}
		})
	}
}

// An admin's own mistakes (pages without links, bad parameters, unknown
// codes) are not guesses: they never lock the admin out.
func TestAdminMistakesAreNeverLimited(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	h := env.bearer()
	h["X-Forwarded-For"] = "198.51.100.99"
	for range 3 * DefaultLimits.Login.N {
		for path, want := range map[string]int{
			"/api/v1/stats?url=https://news.example.org/never-shared": 404,
			"/api/v1/admin/export?format=pdf":                         400,
			"/api/v1/links/nosuchcode/stats":                          404,
			"/api/v1/links?limit=x":                                   400,
			"/dashboard?days=x":                                       400,
		} {
			if resp, _ := env.do(t, http.MethodGet, path, "", h); resp.StatusCode != want {
				t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
			}
		}
	}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/keys", "", h); resp.StatusCode != http.StatusOK {
		t.Fatalf("after %d mistakes the admin gets %d", 15*DefaultLimits.Login.N, resp.StatusCode)
	}
}
