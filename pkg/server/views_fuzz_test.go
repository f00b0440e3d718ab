package server

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/storetest"
)

// FuzzViewBody sends arbitrary beacon bodies and user agents to the views
// endpoint: every answer is 204 or a JSON error with a 4xx status, and a
// view counts once under the site, or not at all, and never on an error.
func FuzzViewBody(f *testing.F) {
	for _, seed := range []struct{ body, ua string }{
		{viewBody(viewStory, "", "", ""), chromeDesktop},
		{viewBody(viewStory+"?dsl=abc&x=1", "https://mail.google.com/", "abc", "article"), instagramUA},
		{viewBody(viewHome, viewStory, "", "website"), chromeDesktop},
		{viewBody("https://elsewhere.example/", "", "", ""), chromeDesktop},
		{viewBody("https://news.example.org/\xff", "android-app://com.google.android.gm", "\x00", "\u2028"), chromeDesktop},
		{`{"url":5}`, chromeDesktop}, {`{"url":"x","kind":[]}`, ""}, {`[]`, "curl/8"}, {`null`, chromeDesktop},
		{``, chromeDesktop}, {`{`, chromeDesktop}, {`{"url":"https://news.example.org@evil.test/"}`, chromeDesktop},
	} {
		f.Add(seed.body, seed.ua)
	}
	env := newTestEnv(f, storetest.MustOpen(f), "https://s.test")
	var requests atomic.Uint64
	total := func(t *testing.T) uint64 {
		var n uint64
		for _, c := range viewsOf(t, env, stats.SiteKey) {
			n += c
		}
		return n
	}
	f.Fuzz(func(t *testing.T, body, ua string) {
		if !validHeaderValue(ua) {
			ua = chromeDesktop
		}
		before := total(t)
		// A fresh address each time, so the rate limit never answers.
		h := beaconHeaders(testAddr(requests.Add(1)))
		h["User-Agent"] = ua
		resp, got := env.do(t, http.MethodPost, "/api/v1/views", body, h)
		after := total(t)
		if resp.StatusCode == http.StatusNoContent {
			if after-before > 1 {
				t.Fatalf("body %q, agent %q: %d views counted for one", body, ua, after-before)
			}
			return
		}
		var e errorResult
		if resp.StatusCode < 400 || resp.StatusCode > 499 || json.Unmarshal([]byte(got), &e) != nil || e.Error.Code == "" {
			t.Fatalf("body %q: %d %s", body, resp.StatusCode, got)
		}
		if after != before {
			t.Fatalf("body %q: %d, yet %d views counted", body, resp.StatusCode, after-before)
		}
	})
}

// validHeaderValue reports whether s can travel as a header value.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// testAddr returns the nth address of 2001:db8::/64, a documentation prefix.
func testAddr(n uint64) string {
	a := [16]byte{0x20, 0x01, 0x0d, 0xb8}
	binary.BigEndian.PutUint64(a[8:], n)
	return netip.AddrFrom16(a).String()
}
