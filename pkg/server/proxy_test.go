package server

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store/storetest"
)

// Fiber derives the scheme and host from X-Forwarded-Proto and
// X-Forwarded-Host; only a trusted proxy may set them.
func TestForwardedSchemeAndHostOnlyFromTrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		want    string
	}{
		// app.Test's requests come from 0.0.0.0.
		{"untrusted peer", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "http s.test"},
		{"no proxies at all", nil, "http s.test"},
		{"trusted proxy", testProxies, "https proxied.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, storetest.MustOpen(t), "https://s.test", envSpec{config: func(c *Config) { c.TrustedProxies = tt.trusted }})
			env.app.Get("/test/origin", func(c *fiber.Ctx) error { return c.SendString(c.Protocol() + " " + c.Hostname()) })
			_, got := env.do(t, http.MethodGet, "http://s.test/test/origin", "", header{
				"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxied.example",
			})
			if got != tt.want {
				t.Errorf("scheme and host %q, want %q", got, tt.want)
			}
		})
	}
}

// The client address comes from the one header --client-ip-header names: a
// client's own X-Forwarded-For never beats the proxy's X-Real-IP, nor the
// other way round. The address is seen through unique visitors.
func TestClientAddressFromOneHeader(t *testing.T) {
	for _, tt := range []struct {
		source  track.ProxyHeader
		headers []header
	}{
		// One reader, whose client forges X-Forwarded-For on each request.
		{track.XRealIP, []header{
			{"X-Real-Ip": "198.51.100.7", "X-Forwarded-For": "6.6.6.1"},
			{"X-Real-Ip": "198.51.100.7", "X-Forwarded-For": "6.6.6.2"},
			{"X-Real-Ip": "198.51.100.7"},
		}},
		// One reader, whose client forges X-Real-IP on each request.
		{track.XForwardedFor, []header{
			{"X-Forwarded-For": "198.51.100.7", "X-Real-Ip": "6.6.6.1"},
			{"X-Forwarded-For": "198.51.100.7", "X-Real-Ip": "6.6.6.2"},
			{"X-Forwarded-For": "6.6.6.3, 198.51.100.7"},
		}},
	} {
		t.Run(tt.source.String(), func(t *testing.T) {
			env := newEnv(t, storetest.MustOpen(t), "https://s.test", envSpec{config: func(c *Config) { c.ClientIPHeader = tt.source }})
			code := env.mint(t, `{"url":"https://news.example.org/ip","channels":["sms"]}`, nil).Links[0].Code
			for _, h := range tt.headers {
				if resp, _ := env.do(t, http.MethodGet, "/"+code, "", h); resp.StatusCode != http.StatusFound {
					t.Fatalf("click: status %d", resp.StatusCode)
				}
			}
			_, body := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", env.bearer())
			var s linkStats
			if err := json.Unmarshal([]byte(body), &s); err != nil {
				t.Fatal(err)
			}
			if s.Clicks != 3 || s.UniqueVisitors != 1 {
				t.Errorf("clicks %d, unique visitors %d: want 3 clicks by 1 visitor", s.Clicks, s.UniqueVisitors)
			}
		})
	}
}

// A proxy may add its own X-Forwarded-For line rather than extend the
// client's: the last line is the proxy's, and the client's is ignored.
func TestClientAddressFromEveryForwardedForLine(t *testing.T) {
	env := newEnv(t, storetest.MustOpen(t), "https://s.test", envSpec{config: func(*Config) {}})
	code := env.mint(t, `{"url":"https://news.example.org/lines","channels":["sms"]}`, nil).Links[0].Code
	for _, forged := range []string{"6.6.6.1", "6.6.6.2"} {
		req, _ := http.NewRequest(http.MethodGet, "/"+code, nil)
		req.Header.Set("User-Agent", chromeDesktop)
		req.Header.Add("X-Forwarded-For", forged)
		req.Header.Add("X-Forwarded-For", "198.51.100.8")
		resp, err := env.app.Test(req, -1)
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("click: %v %v", resp, err)
		}
	}
	_, body := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", env.bearer())
	var s linkStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.Clicks != 2 || s.UniqueVisitors != 1 {
		t.Errorf("clicks %d, unique visitors %d: want 2 clicks by 1 visitor", s.Clicks, s.UniqueVisitors)
	}
}
