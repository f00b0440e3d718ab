package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/store/storetest"
)

type mintResult struct {
	URL   string       `json:"url"`
	Links []mintedLink `json:"links"`
}

type errorResult struct {
	Error apiError `json:"error"`
}

// mint posts body to the mint endpoint and decodes a 200 answer.
func (e *testEnv) mint(t testing.TB, body string, h header) mintResult {
	t.Helper()
	resp, got := e.do(t, http.MethodPost, "/api/v1/links", body, h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mint %s: status %d: %s", body, resp.StatusCode, got)
	}
	var r mintResult
	if err := json.Unmarshal([]byte(got), &r); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	return r
}

func TestMintAnswers(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	tests := []struct {
		name   string
		body   string
		admin  bool
		hdr    header
		status int
		code   string // error code expected, or "" for 200
	}{
		{"allowed host", `{"url":"https://news.example.org/a","channels":["email"]}`, false, nil, 200, ""},
		{"wildcard host", `{"url":"https://www.example.com/a","channels":["sms"]}`, false, nil, 200, ""},
		{"all channels by default", `{"url":"https://news.example.org/b"}`, false, nil, 200, ""},
		{"host not allowed", `{"url":"https://evil.test/"}`, false, nil, 403, "host_not_allowed"},
		{"bare domain of wildcard", `{"url":"https://example.com/"}`, false, nil, 403, "host_not_allowed"},
		{"admin may mint any host", `{"url":"https://evil.test/"}`, true, nil, 200, ""},
		{"wrong bearer token", `{"url":"https://news.example.org/"}`, false, header{"Authorization": "Bearer nope"}, 401, "unauthorized"},
		{"not bearer scheme", `{"url":"https://news.example.org/"}`, false, header{"Authorization": "Basic eDp5"}, 401, "unauthorized"},
		{"ftp url", `{"url":"ftp://news.example.org/"}`, false, nil, 400, "invalid_url"},
		{"javascript url", `{"url":"javascript:alert(1)"}`, true, nil, 400, "invalid_url"},
		{"missing url", `{"channels":["email"]}`, false, nil, 400, "invalid_url"},
		{"userinfo", `{"url":"https://news.example.org@evil.test/"}`, true, nil, 400, "invalid_url"},
		{"link to this service", `{"url":"https://s.test/abc"}`, true, nil, 400, "invalid_url"},
		{"link to this service, other case and dot", `{"url":"https://S.TEST./abc"}`, true, nil, 400, "invalid_url"},
		{"allowed host as userinfo", `{"url":"https://news.example.org@evil.test/"}`, false, nil, 400, "invalid_url"},
		{"backslash trick", `{"url":"https://news.example.org\\@evil.test/"}`, false, nil, 400, "invalid_url"},
		{"allowed host as a subdomain of another", `{"url":"https://news.example.org.evil.test/"}`, false, nil, 403, "host_not_allowed"},
		{"suffix without a dot", `{"url":"https://evilexample.com/"}`, false, nil, 403, "host_not_allowed"},
		{"sibling of an exact host", `{"url":"https://news2.example.org/"}`, false, nil, 403, "host_not_allowed"},
		{"case, trailing dot and port", `{"url":"https://NEWS.Example.ORG.:8443/x"}`, false, nil, 200, ""},
		{"percent-encoded host: refused, not decoded", `{"url":"https://news%2Eexample.org/"}`, false, nil, 400, "invalid_url"},
		{"look-alike IDN", `{"url":"https://nëws.example.org/"}`, false, nil, 403, "host_not_allowed"},
		{"blocked host, even for the admin", `{"url":"https://blocked.test/"}`, true, nil, 403, "host_blocked"},
		{"blocked subdomain", `{"url":"https://a.evil.example.com/"}`, false, nil, 403, "host_blocked"},
		{"unknown channel", `{"url":"https://news.example.org/","channels":["email","fax"]}`, false, nil, 400, "unknown_channel"},
		{"malformed json", `{"url":`, false, nil, 400, "bad_request"},
		{"wrong type", `{"url":["x"]}`, false, nil, 400, "bad_request"},
		{"channels wrong type", `{"url":"https://news.example.org/","channels":"email"}`, false, nil, 400, "bad_request"},
		{"unknown field", `{"url":"https://news.example.org/","chanels":["email"]}`, false, nil, 400, "bad_request"},
		{"two objects", `{"url":"https://news.example.org/"}{}`, false, nil, 400, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.hdr
			if tt.admin {
				h = env.bearer()
			}
			resp, body := env.do(t, http.MethodPost, "/api/v1/links", tt.body, h)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code == "" {
				return
			}
			var e errorResult
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			if e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("error %+v, want code %q and a message", e.Error, tt.code)
			}
		})
	}
}

func TestMintIsIdempotentPerNormalisedURLAndChannel(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	first := env.mint(t, `{"url":"https://news.example.org/story?id=7","channels":["email","whatsapp","copy"]}`, nil)
	again := env.mint(t, `{"url":"HTTPS://News.Example.org:443/story?id=7&utm_source=x&fbclid=y#top","channels":["copy","email"]}`, nil)
	if first.URL != "https://news.example.org/story?id=7" || again.URL != first.URL {
		t.Fatalf("normalised urls %q and %q", first.URL, again.URL)
	}
	codes := map[string]string{}
	for _, l := range first.Links {
		codes[string(l.Channel)] = l.Code
		if l.ShortURL != "https://s.test/"+l.Code || l.QRURL != "https://s.test/"+l.Code+"/qr.png" {
			t.Errorf("urls of %s: %q %q", l.Code, l.ShortURL, l.QRURL)
		}
		if l.StatsURL != "" {
			t.Errorf("anonymous mint leaked a stats url: %q", l.StatsURL)
		}
	}
	if len(codes) != 3 || codes["email"] == codes["whatsapp"] {
		t.Fatalf("want three distinct codes, got %v", codes)
	}
	if again.Links[0].Channel != "copy" || again.Links[0].Code != codes["copy"] || again.Links[1].Code != codes["email"] {
		t.Errorf("second mint gave %+v, want the codes of the first %v in request order", again.Links, codes)
	}
	all := env.mint(t, `{"url":"https://news.example.org/story?id=7"}`, env.bearer())
	if len(all.Links) != 8 {
		t.Fatalf("all channels: got %d links", len(all.Links))
	}
	for _, l := range all.Links {
		if c, ok := codes[string(l.Channel)]; ok && c != l.Code {
			t.Errorf("%s changed code from %s to %s", l.Channel, c, l.Code)
		}
		if !strings.HasPrefix(l.StatsURL, "https://s.test/stats/"+l.Code+"?key=") {
			t.Errorf("admin mint: stats url %q", l.StatsURL)
		}
	}
}

func TestMintConcurrentGivesOneCode(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	const n = 16
	got := make(chan string, n)
	for range n {
		go func() {
			resp, body := env.do(t, http.MethodPost, "/api/v1/links", `{"url":"https://news.example.org/race","channels":["sms"]}`, nil)
			var r mintResult
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &r) != nil {
				got <- "error: " + body
				return
			}
			got <- r.Links[0].Code
		}()
	}
	first := <-got
	for range n - 1 {
		if c := <-got; c != first {
			t.Fatalf("concurrent mints gave %q and %q", first, c)
		}
	}
}

func TestRedirectCountsGetOnly(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/r?x=1","channels":["email"]}`, nil).Links[0].Code

	for range 3 {
		resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://news.example.org/r?x=1" {
			t.Fatalf("GET: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
	}
	resp, _ := env.do(t, http.MethodHead, "/"+code, "", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") == "" {
		t.Fatalf("HEAD: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := clicksOf(t, env, code); got != 3 {
		t.Fatalf("before flush: %d clicks, want 3 (HEAD must not count)", got)
	}
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := clicksOf(t, env, code); got != 3 {
		t.Fatalf("after flush: %d clicks, want 3", got)
	}
}

func clicksOf(t *testing.T, env *testEnv, code string) uint64 {
	t.Helper()
	resp, body := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", env.bearer())
	if resp.StatusCode != 200 {
		t.Fatalf("stats of %s: %d %s", code, resp.StatusCode, body)
	}
	var s linkStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s.Clicks
}

func TestUnknownCodeIsFriendly404(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	for _, path := range []string{"/nosuchcode", "/a%20b", "/" + strings.Repeat("x", 40), "/nosuchcode/qr.png", "/x/y/z"} {
		resp, body := env.do(t, http.MethodGet, path, "", nil)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d, Location %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "No such link") {
			t.Errorf("%s: want the HTML 404 page, got %s", path, body)
		}
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/api/v1/nothing", 404, "not_found"},
		{http.MethodPut, "/api/v1/links", 405, "method_not_allowed"},
		{http.MethodGet, "/api/v1/stats?url=https://news.example.org/", 401, "unauthorized"},
	}
	for _, tt := range tests {
		resp, body := env.do(t, tt.method, tt.path, "", nil)
		var e errorResult
		if resp.StatusCode != tt.status || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tt.code {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.code)
		}
	}
}

func TestQRCodeEncodesShortURL(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/qr","channels":["qr"]}`, nil).Links[0].Code
	for _, tt := range []struct {
		query  string
		status int
	}{{"", 200}, {"?size=64", 200}, {"?size=1024", 200}, {"?size=63", 400}, {"?size=1025", 400}, {"?size=abc", 400}, {"?size=-5", 400}} {
		resp, body := env.do(t, http.MethodGet, "/"+code+"/qr.png"+tt.query, "", nil)
		if resp.StatusCode != tt.status {
			t.Errorf("size%s: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		if tt.status != 200 {
			continue
		}
		if resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG") {
			t.Errorf("size%s: %q is not a PNG", tt.query, resp.Header.Get("Content-Type"))
		}
		if tt.query == "" {
			if got := decodeQR(t, body); got != "https://s.test/"+code {
				t.Errorf("QR holds %q, want the short URL", got)
			}
		}
	}
}

// decodeQR reads a QR code with zbarimg (Debian package zbar-tools).
func decodeQR(t *testing.T, png string) string {
	t.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		requireTool(t, "zbarimg", "zbar-tools")
		return ""
	}
	cmd := exec.Command(zbar, "--quiet", "--raw", "-")
	cmd.Stdin = strings.NewReader(png)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// Fiber's app.Test cannot show a refused body or header (the server closes
// the connection), so these go through a real listener.
func TestOversizedRequestsAreJSONErrors(t *testing.T) {
	env := startServer(t)
	tests := []struct {
		name   string
		req    func() (*http.Request, error)
		status int
		code   string
	}{
		{"body", func() (*http.Request, error) {
			body := `{"url":"https://news.example.org/?q=` + strings.Repeat("a", 20<<10) + `"}`
			return http.NewRequest(http.MethodPost, env.base+"/api/v1/links", strings.NewReader(body))
		}, http.StatusRequestEntityTooLarge, "body_too_large"},
		{"headers", func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, env.base+"/api/v1/links/abc/stats", nil)
			if err == nil {
				req.Header.Set("X-Filler", strings.Repeat("a", 20<<10))
			}
			return req, err
		}, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := tt.req()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e errorResult
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("status %d, body not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.status || e.Error.Code != tt.code {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, e.Error, tt.status, tt.code)
			}
		})
	}
}
