package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/store/storetest"
)

func TestShareIntentsAreCountedAndLimited(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	minted := env.mint(t, `{"url":"https://news.example.org/sh","channels":["email","copy"]}`, nil)
	email, cp := minted.Links[0].Code, minted.Links[1].Code
	beacon := header{"Content-Type": "text/plain;charset=UTF-8"} // what sendBeacon sends

	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"code":"` + email + `"}`, 204},
		{`{"code":"` + email + `"}`, 204},
		{`{"code":"` + cp + `"}`, 204},
		{`{"code":"nosuchcode"}`, 404},
		{`{"code":"../etc"}`, 404},
		{`{"code":5}`, 400},
		{`{"cod":"x"}`, 400},
		{`not json`, 400},
	} {
		resp, body := env.do(t, http.MethodPost, "/api/v1/shares", tt.body, beacon)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.body, resp.StatusCode, body, tt.status)
		}
	}
	resp, body := env.do(t, http.MethodGet, "/api/v1/stats?url=https://news.example.org/sh", "", env.bearer())
	var p pageStats
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("page stats: %d %s", resp.StatusCode, body)
	}
	if p.Shares != 3 || p.Channels["email"].Shares != 2 || p.Channels["copy"].Shares != 1 || p.Clicks != 0 {
		t.Fatalf("page stats %+v: want 3 shares (email 2, copy 1) and no clicks", p)
	}
	_, body = env.do(t, http.MethodGet, "/api/v1/links/"+email+"/stats", "", env.bearer())
	var ls linkStats
	if err := json.Unmarshal([]byte(body), &ls); err != nil || ls.Shares != 2 || len(ls.Days) != 1 || ls.Days[0].Shares != 2 || ls.Clicks != 0 {
		t.Errorf("link stats lack shares in total and per day: %s", body)
	}

	// 8 requests above count against the limit too.
	limited := 0
	for range DefaultLimits.Share.N {
		resp, body := env.do(t, http.MethodPost, "/api/v1/shares", `{"code":"`+email+`"}`, beacon)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"rate_limited"`) {
				t.Fatalf("429 without Retry-After or JSON error: %v %s", resp.Header, body)
			}
		}
	}
	if limited != 8 {
		t.Fatalf("%d of %d requests over the limit of %d were refused, want 8", limited, DefaultLimits.Share.N+8, DefaultLimits.Share.N)
	}
	if resp, _ := env.do(t, http.MethodGet, "/"+email, "", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("redirects must never be rate-limited: %d", resp.StatusCode)
	}
}

func TestCORSOnlyForAllowedOrigins(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	for _, tt := range []struct {
		origin string
		allow  bool
	}{
		{"https://news.example.org", true},
		{"https://NEWS.example.org", true},
		{"http://news.example.org:8443", true},
		{"https://www.example.com", true},
		{"https://example.com", false},
		{"https://news.example.org.evil.test", false},
		{"https://evilnews.example.org", false},
		{"https://evil.test", false},
		{"null", false},
		{"file://", false},
	} {
		for _, path := range []string{"/api/v1/links", "/api/v1/shares"} {
			resp, _ := env.do(t, http.MethodOptions, path, "", header{
				"Origin": tt.origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
			})
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if tt.allow != (got != "") || (tt.allow && !strings.EqualFold(got, tt.origin)) {
				t.Errorf("preflight %s from %s: Allow-Origin %q, want allowed=%v", path, tt.origin, got, tt.allow)
			}
			if tt.allow && !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Errorf("preflight %s from %s: methods %q", path, tt.origin, resp.Header.Get("Access-Control-Allow-Methods"))
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") == "true" {
				t.Errorf("credentials allowed for %s", tt.origin)
			}
		}
		resp, _ := env.do(t, http.MethodPost, "/api/v1/links", `{"url":"https://news.example.org/c"}`,
			header{"Origin": tt.origin, "Content-Type": "text/plain;charset=UTF-8"})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); tt.allow != (got != "") {
			t.Errorf("mint from %s: Allow-Origin %q", tt.origin, got)
		}
	}
	resp, _ := env.do(t, http.MethodGet, "/api/v1/links/x/stats", "", header{"Origin": "https://news.example.org"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("stats answer cross-origin reads")
	}
}

func TestWidgetAssetsAndDemo(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	resp, page := env.do(t, http.MethodGet, DemoPath, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "data-darkshare") ||
		!strings.Contains(page, `&lt;script src="https://s.test/static/share.js" defer&gt;`) {
		t.Fatalf("demo page: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("demo CSP %q", csp)
	}
	hashed := regexp.MustCompile(`src="(/static/share\.[0-9a-f]{12}\.js)"`).FindStringSubmatch(page)
	if hashed == nil {
		t.Fatal("demo page does not load the content-hashed script")
	}
	for path, cache := range map[string]string{
		"/static/share.js":  "max-age=300",
		"/static/share.css": "max-age=300",
		hashed[1]:           "immutable",
	} {
		resp, body := env.do(t, http.MethodGet, path, "", nil)
		if resp.StatusCode != 200 || len(body) == 0 || !strings.Contains(resp.Header.Get("Cache-Control"), cache) {
			t.Errorf("%s: %d, Cache-Control %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "text/css") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		etag := resp.Header.Get("ETag")
		if resp, _ := env.do(t, http.MethodGet, path, "", header{"If-None-Match": etag}); etag == "" || resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s: revalidation with ETag %q gave %d", path, etag, resp.StatusCode)
		}
	}
	// Anyone may share the demo page, though the service's host is not on the
	// allow-list; any other page of the service would loop.
	env.mint(t, `{"url":"https://s.test/demo"}`, nil)
	resp, _ = env.do(t, http.MethodPost, "/api/v1/links", `{"url":"https://s.test/other"}`, env.bearer())
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("link to the service itself: %d, want 400", resp.StatusCode)
	}
}
