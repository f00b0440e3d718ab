package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/store/storetest"
)

type keyResult struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	Key    string   `json:"key"`
}

func (e *testEnv) createKey(t *testing.T, body string) keyResult {
	t.Helper()
	resp, got := e.do(t, http.MethodPost, "/api/v1/keys", body, e.bearer())
	var k keyResult
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(got), &k) != nil || !strings.HasPrefix(k.Key, "dsk_") {
		t.Fatalf("create key %s: %d %s", body, resp.StatusCode, got)
	}
	return k
}

func bearer(token string) header { return header{"Authorization": "Bearer " + token} }

func TestAPIKeysAndScopes(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	writer := env.createKey(t, `{"name":"cms","scopes":["links:write"]}`)
	reader := env.createKey(t, `{"name":"analytics","scopes":["stats:read"]}`)
	code := env.mint(t, `{"url":"https://news.example.org/k","channels":["email"]}`, nil).Links[0].Code

	tests := []struct {
		name, method, path, body string
		h                        header
		status                   int
	}{
		{"writer mints any host", "POST", "/api/v1/links", `{"url":"https://elsewhere.test/"}`, bearer(writer.Key), 200},
		{"reader may not mint any host", "POST", "/api/v1/links", `{"url":"https://elsewhere.test/"}`, bearer(reader.Key), 403},
		{"reader reads stats", "GET", "/api/v1/links/" + code + "/stats", "", bearer(reader.Key), 200},
		{"reader reads page stats", "GET", "/api/v1/stats?url=https://news.example.org/k", "", bearer(reader.Key), 200},
		{"writer may not read stats", "GET", "/api/v1/stats?url=https://news.example.org/k", "", bearer(writer.Key), 403},
		{"writer may not list keys", "GET", "/api/v1/keys", "", bearer(writer.Key), 403},
		{"anonymous may not list keys", "GET", "/api/v1/keys", "", nil, 401},
		{"a forged key", "GET", "/api/v1/keys", "", bearer(reader.Key[:len(reader.Key)-2] + "xx"), 401},
		{"an unknown key id", "GET", "/api/v1/keys", "", bearer("dsk_nope.secret"), 401},
		{"unknown scope", "POST", "/api/v1/keys", `{"name":"x","scopes":["root"]}`, env.bearer(), 400},
		{"no scope", "POST", "/api/v1/keys", `{"name":"x","scopes":[]}`, env.bearer(), 400},
		{"no name", "POST", "/api/v1/keys", `{"scopes":["admin"]}`, env.bearer(), 400},
		{"revoke unknown", "DELETE", "/api/v1/keys/nosuch", "", env.bearer(), 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := env.do(t, tt.method, tt.path, tt.body, tt.h)
			if resp.StatusCode != tt.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tt.status)
			}
		})
	}

	resp, body := env.do(t, http.MethodGet, "/api/v1/keys", "", env.bearer())
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"cms"`) || strings.Contains(body, writer.Key) || strings.Contains(body, "dsk_") {
		t.Fatalf("list: %d %s (must not show secrets)", resp.StatusCode, body)
	}
	if resp, _ := env.do(t, http.MethodDelete, "/api/v1/keys/"+reader.ID, "", env.bearer()); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", bearer(reader.Key)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked key still works: %d", resp.StatusCode)
	}
}

func TestDisabledLinkAnswers410WithoutTarget(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/phish-me","channels":["email"]}`, nil).Links[0].Code
	if resp, body := env.do(t, http.MethodPatch, "/api/v1/links/"+code, `{"disabled":true}`, env.bearer()); resp.StatusCode != 200 || !strings.Contains(body, `"disabled":true`) {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/" + code, "/" + code + "/qr.png"} {
		resp, page := env.do(t, http.MethodGet, path, "", nil)
		if resp.StatusCode != http.StatusGone || resp.Header.Get("Location") != "" || strings.Contains(page, "phish-me") || !strings.Contains(page, "disabled") {
			t.Errorf("%s: %d, Location %q; want a 410 page that does not name the target", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, tt := range []struct {
		body   string
		h      header
		status int
	}{
		{`{"disabled":true}`, nil, 401},
		{`{}`, env.bearer(), 400},
		{`{"disabled":"yes"}`, env.bearer(), 400},
	} {
		if resp, body := env.do(t, http.MethodPatch, "/api/v1/links/"+code, tt.body, tt.h); resp.StatusCode != tt.status {
			t.Errorf("PATCH %s: %d %s, want %d", tt.body, resp.StatusCode, body, tt.status)
		}
	}
	if resp, _ := env.do(t, http.MethodPatch, "/api/v1/links/nosuchcode", `{"disabled":true}`, env.bearer()); resp.StatusCode != 404 {
		t.Errorf("disable unknown: %d", resp.StatusCode)
	}
	env.do(t, http.MethodPatch, "/api/v1/links/"+code, `{"disabled":false}`, env.bearer())
	if resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil); resp.StatusCode != http.StatusFound {
		t.Errorf("re-enabled: %d", resp.StatusCode)
	}
}

func TestRotatedStatsKeyCutsOffTheOldOne(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	l := env.mint(t, `{"url":"https://news.example.org/r","channels":["email"]}`, env.bearer()).Links[0]
	old := statsKeyOf(t, l)
	resp, body := env.do(t, http.MethodPost, "/api/v1/links/"+l.Code+"/stats-key", "", env.bearer())
	var info linkInfo
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &info) != nil {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	fresh := statsKeyOf(t, mintedLink{StatsURL: info.StatsURL})
	if fresh == old || len(fresh) < 22 {
		t.Fatalf("new key %q", fresh)
	}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/links/"+l.Code+"/stats?key="+old, "", nil); resp.StatusCode != 404 {
		t.Errorf("old key: %d, want 404", resp.StatusCode)
	}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/links/"+l.Code+"/stats?key="+fresh, "", nil); resp.StatusCode != 200 {
		t.Errorf("new key: %d", resp.StatusCode)
	}
	if resp, _ := env.do(t, http.MethodPost, "/api/v1/links/"+l.Code+"/stats-key", "", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous rotation: %d", resp.StatusCode)
	}
}

// A repeated mint is answered from memory, per caller's rights, until a
// link changes.
func TestRepeatedMintsFollowLinkChanges(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	const req = `{"url":"https://news.example.org/again","channels":["email","sms"]}`
	mint := func(h header) string {
		t.Helper()
		resp, body := env.do(t, http.MethodPost, "/api/v1/links", req, h)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("mint: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		return body
	}
	first := mint(env.bearer())
	if again := mint(env.bearer()); again != first || !strings.Contains(first, "stats_url") {
		t.Fatalf("a repeated mint answered %s, then %s", first, again)
	}
	if anon := mint(nil); strings.Contains(anon, "stats_url") {
		t.Fatalf("an anonymous caller got the admin's answer: %s", anon)
	}
	var links mintResult
	if err := json.Unmarshal([]byte(first), &links); err != nil {
		t.Fatal(err)
	}
	code := links.Links[0].Code
	if resp, body := env.do(t, http.MethodPost, "/api/v1/links/"+code+"/stats-key", "", env.bearer()); resp.StatusCode != 200 {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	after := mint(env.bearer())
	if after == first || !strings.Contains(after, code) {
		t.Fatalf("after a rotation the mint still answers the old stats key: %s", after)
	}
	if anon := mint(nil); strings.Contains(anon, "stats_url") || !strings.Contains(anon, code) {
		t.Fatalf("anonymous answer after the rotation: %s", anon)
	}
}

func TestMintIsRateLimitedForAnonymousCallersOnly(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	limited := 0
	for range DefaultLimits.Mint.N + 5 {
		resp, body := env.do(t, http.MethodPost, "/api/v1/links", `{"url":"https://news.example.org/rl"}`, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"rate_limited"`) {
				t.Fatalf("429 without Retry-After or JSON: %s", body)
			}
		}
	}
	if limited != 5 {
		t.Fatalf("%d mints refused, want 5", limited)
	}
	if resp, _ := env.do(t, http.MethodPost, "/api/v1/links", `{"url":"https://news.example.org/rl"}`, env.bearer()); resp.StatusCode != 200 {
		t.Fatalf("an admin mint was rate-limited: %d", resp.StatusCode)
	}
	code := env.mint(t, `{"url":"https://news.example.org/rl"}`, env.bearer()).Links[0].Code
	for range 100 {
		if resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil); resp.StatusCode != http.StatusFound {
			t.Fatalf("a redirect was refused: %d", resp.StatusCode)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]string{
		"60/1m": "60/1m0s", "5/10s": "5/10s", "off": "off", "0": "off", " 3/1h ": "3/1h0m0s",
		"": "error", "60": "error", "x/1m": "error", "-1/1m": "error", "1/0s": "error", "1/500ms": "error", "1/48h": "error", "1/m": "error",
	} {
		r, err := ParseRate(in)
		got := r.String()
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseRate(%q) = %s, want %s", in, got, want)
		}
	}
}

// A session cookie is sent by every page of the same site, so it only reads.
func TestSessionCookieCannotChangeAnything(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/s"}`, nil).Links[0].Code
	resp, _ := env.do(t, http.MethodPost, "/login", "token="+env.token+"&"+env.csrfForm(t),
		header{"Content-Type": "application/x-www-form-urlencoded"})
	var session string
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c.Name + "=" + c.Value
		}
	}
	if session == "" {
		t.Fatal("no session")
	}
	h := header{"Cookie": session}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/keys", "", h); resp.StatusCode != 200 {
		t.Fatalf("a session cannot read: %d", resp.StatusCode)
	}
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/api/v1/keys", `{"name":"x","scopes":["admin"]}`},
		{"PATCH", "/api/v1/links/" + code, `{"disabled":true}`},
		{"POST", "/api/v1/links/" + code + "/stats-key", ""},
	} {
		if resp, _ := env.do(t, tt.method, tt.path, tt.body, h); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s with only a session cookie: %d, want 401", tt.method, tt.path, resp.StatusCode)
		}
	}
	resp, body := env.do(t, http.MethodPost, "/api/v1/links", `{"url":"https://elsewhere.test/"}`, h)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "stats_url") {
		t.Errorf("a session cookie minted for any host: %d %s", resp.StatusCode, body)
	}
}

func TestGuessingStatsKeysIsRateLimited(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	l := env.mint(t, `{"url":"https://news.example.org/g"}`, env.bearer()).Links[0]
	limited := false
	for i := range DefaultLimits.Login.N + 1 {
		resp, _ := env.do(t, http.MethodGet, "/api/v1/links/"+l.Code+"/stats?key=guess"+strings.Repeat("x", i), "", nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatalf("%d wrong stats keys in a row were not rate-limited", DefaultLimits.Login.N+1)
	}
}

func TestShareOfADisabledLinkIsRefused(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/d"}`, nil).Links[0].Code
	env.do(t, http.MethodPatch, "/api/v1/links/"+code, `{"disabled":true}`, env.bearer())
	if resp, _ := env.do(t, http.MethodPost, "/api/v1/shares", `{"code":"`+code+`"}`, nil); resp.StatusCode != http.StatusGone {
		t.Fatalf("share of a disabled link: %d, want 410", resp.StatusCode)
	}
}

func TestMetricsNeedStatsReadAndCountVisits(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/m"}`, nil).Links[0].Code
	env.do(t, http.MethodGet, "/"+code, "", nil)
	env.do(t, http.MethodGet, "/"+code, "", header{"User-Agent": "curl/8"})
	if resp, _ := env.do(t, http.MethodGet, "/metrics", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous /metrics: %d", resp.StatusCode)
	}
	reader := env.createKey(t, `{"name":"prometheus","scopes":["stats:read"]}`)
	resp, body := env.do(t, http.MethodGet, "/metrics", "", bearer(reader.Key))
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`darkshare_visits_total{class="human"} 1`, `darkshare_visits_total{class="bot"} 1`,
		"darkshare_redirects_total 2", "darkshare_mint_requests_total 1", "darkshare_pending_events ",
		"darkshare_db_size_bytes ", "darkshare_flush_duration_seconds_bucket", "go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp, _ := env.do(t, http.MethodGet, "/debug/pprof/", "", env.bearer()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof without --pprof: %d, want 404", resp.StatusCode)
	}
}
