package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

// mintStatus posts a mint of url for the email channel and returns the
// status and, for an error, its code and message.
func (e *testEnv) mintStatus(t *testing.T, url string, h header) (int, apiError) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": url, "channels": []string{"email"}})
	resp, got := e.do(t, http.MethodPost, "/api/v1/links", string(body), h)
	var e2 errorResult
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal([]byte(got), &e2); err != nil {
			t.Fatalf("mint %s: status %d, body not JSON: %s", url, resp.StatusCode, got)
		}
	}
	return resp.StatusCode, e2.Error
}

// A blocklisted address is refused in every spelling a browser reads as
// it, for the admin too, and an address off the list is stored, and
// redirected to, in dotted decimal with the rest of the URL as given.
func TestMintBlockedAddressInEverySpelling(t *testing.T) {
	db := storetest.MustOpen(t)
	env := newEnv(t, db, "https://s.test", envSpec{policy: func(p *link.Policy) {
		block, err := link.ParseHostList(testBlockList + ",10.0.0.1,2001:db8::bad")
		if err != nil {
			t.Fatal(err)
		}
		p.Block = block
	}})
	for _, target := range []string{
		"http://10.0.0.1/",
		"http://167772161/", "http://0x0a000001/", "http://10.1/", "http://012.0.0.1/",
		"http://0xA.0.0.1:8080/x", "http://10.0.1/", "http://10.0.0.1./", "http://１０.０.０.１/",
		"http://[::ffff:10.0.0.1]/", "http://[::ffff:a00:1]/",
		"http://[2001:db8:0:0:0:0:0:bad]/", "http://[2001:DB8::BAD]:8443/",
	} {
		status, e := env.mintStatus(t, target, env.bearer())
		if status != http.StatusForbidden || e.Code != "host_blocked" || e.Message == "" {
			t.Errorf("admin mint of %s: %d %+v; want 403 host_blocked", target, status, e)
		}
	}

	m := env.mint(t, `{"url":"http://0x0a000002:8080/a%2Fb?x=1&utm_source=y#f","channels":["email"]}`, env.bearer())
	const want = "http://10.0.0.2:8080/a%2Fb?x=1"
	if m.URL != want {
		t.Fatalf("stored %q; want %q", m.URL, want)
	}
	resp, _ := env.do(t, http.MethodGet, "/"+m.Links[0].Code, "", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != want {
		t.Errorf("redirect: %d to %q; want 302 to %q", resp.StatusCode, loc, want)
	}
}

// The service's own host and listen address, and this machine under names
// the allow-list does not give, are refused to everyone; 127.0.0.1 on
// another port stays allowed, as testAllowList asks for the widget tests.
func TestMintRefusesThisServiceAndMachine(t *testing.T) {
	db := storetest.MustOpen(t)
	env := newEnv(t, db, "https://s.test", envSpec{policy: func(p *link.Policy) {
		p.SelfHosts = []string{"127.0.0.1:8080"} // the listen address, as run.go passes it
	}})
	tests := []struct {
		url    string
		status int
		code   string
	}{
		// Loopback names and addresses that testAllowList does not name.
		{"http://localhost/", 403, "host_blocked"},
		{"http://LocalHost.:9000/", 403, "host_blocked"},
		{"http://app.localhost/", 403, "host_blocked"},
		{"http://[::1]/", 403, "host_blocked"},
		{"http://[0:0:0:0:0:0:0:1]:9000/", 403, "host_blocked"},
		{"http://127.0.0.2/", 403, "host_blocked"},
		{"http://0.0.0.0/", 403, "host_blocked"},
		{"http://0/", 403, "host_blocked"},
		// The listen address, in any spelling, even though 127.0.0.1 is allowed.
		{"http://127.0.0.1:8080/abc", 400, "invalid_url"},
		{"http://2130706433:8080/abc", 400, "invalid_url"},
		{"http://0x7f.1:8080/abc", 400, "invalid_url"},
		{"http://localhost:8080/abc", 400, "invalid_url"},
		{"http://[::1]:8080/abc", 400, "invalid_url"},
		{"http://[::ffff:7f00:1]:8080/abc", 400, "invalid_url"},
		// The base URL's host, on any scheme and port.
		{"https://s.test/abc", 400, "invalid_url"},
		{"http://s.test/abc", 400, "invalid_url"},
		{"https://s.test:8443/abc", 400, "invalid_url"},
		// 127.0.0.1 is on testAllowList: another local site, in any spelling.
		{"http://127.0.0.1:9000/page", 200, ""},
		{"http://2130706433:9000/page", 200, ""},
		{"http://[::ffff:127.0.0.1]:9000/page", 200, ""},
	}
	for _, tt := range tests {
		status, e := env.mintStatus(t, tt.url, env.bearer())
		if status != tt.status || e.Code != tt.code || (tt.code != "" && e.Message == "") {
			t.Errorf("admin mint of %s: %d %+v; want %d %q", tt.url, status, e, tt.status, tt.code)
		}
	}
	// Anonymous callers get the same answers.
	for u, want := range map[string]string{"http://localhost/": "host_blocked", "http://2130706433:8080/": "invalid_url"} {
		if _, e := env.mintStatus(t, u, nil); e.Code != want {
			t.Errorf("anonymous mint of %s: %+v; want %s", u, e, want)
		}
	}
}
