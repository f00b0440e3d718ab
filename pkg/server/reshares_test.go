package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

// reshareEnv is an app with the links of two pages: the story's email,
// whatsapp and telegram links (telegram disabled), a whatsapp link of the
// story's address with a parameter --page-params drops (the same page),
// and an email link of another page.
type reshareEnv struct {
	*testEnv
	email, whatsapp, telegram, whatsappRef, otherEmail string
	addrs                                              atomic.Uint64
}

const reshareStory = "https://news.example.org/reshared?id=7"

func newReshareEnv(t testing.TB) *reshareEnv {
	t.Helper()
	env := &reshareEnv{testEnv: newTestEnv(t, storetest.MustOpen(t), "https://s.test")}
	story := env.mint(t, `{"url":"`+reshareStory+`","channels":["email","whatsapp","telegram"]}`, nil).Links
	env.email, env.whatsapp, env.telegram = story[0].Code, story[1].Code, story[2].Code
	env.whatsappRef = env.mint(t, `{"url":"`+reshareStory+`&ref=newsletter","channels":["whatsapp"]}`, nil).Links[0].Code
	env.otherEmail = env.mint(t, `{"url":"https://news.example.org/other","channels":["email"]}`, nil).Links[0].Code
	if _, err := env.links.SetDisabled(context.Background(), env.telegram, true); err != nil {
		t.Fatal(err)
	}
	return env
}

// share posts a share intent as the widget does, each from an address of
// its own so that no rate limit answers, and returns the answer's status,
// headers but the date, and body.
func (e *reshareEnv) share(t testing.TB, body string) (int, http.Header, string) {
	t.Helper()
	resp, got := e.do(t, http.MethodPost, "/api/v1/shares", body, beaconHeaders(testAddr(e.addrs.Add(1))))
	h := resp.Header.Clone()
	h.Del("Date")
	return resp.StatusCode, h, got
}

// resharesOf returns a link's reshares and reshares by channel.
func (e *reshareEnv) resharesOf(t *testing.T, code string) (uint64, map[string]uint64) {
	t.Helper()
	_, body := e.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", e.bearer())
	var s linkStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("stats of %s: %v: %s", code, err, body)
	}
	return s.Reshares, s.ResharesByChannel
}

func shareBody(code, via string) string {
	b, _ := json.Marshal(map[string]string{"code": code, "via": via})
	return string(b)
}

// A via that is absent, malformed, unknown, disabled or of another page is
// no reshare, and the answer is byte for byte the one without a via, for
// a known code and an unknown one alike.
func TestShareViaIgnoredUnlessALinkOfThePage(t *testing.T) {
	env := newReshareEnv(t)
	for _, code := range []string{env.whatsapp, "nosuchcode1"} {
		wantStatus, wantHeader, wantBody := env.share(t, `{"code":"`+code+`"}`)
		for _, via := range []string{
			"",
			"nosuchcode1",        // unknown
			"../etc", "é", "a b", // malformed
			strings.Repeat("a", 33), // longer than any code
			env.telegram,            // disabled
			env.otherEmail,          // a link of another page
		} {
			status, h, body := env.share(t, shareBody(code, via))
			if status != wantStatus || body != wantBody || !maps.EqualFunc(h, wantHeader, slices.Equal) {
				t.Errorf("code %s, via %q: %d %v %q; without via: %d %v %q", code, via, status, h, body, wantStatus, wantHeader, wantBody)
			}
		}
	}
	for _, code := range []string{env.email, env.whatsapp, env.telegram, env.whatsappRef, env.otherEmail} {
		if n, by := env.resharesOf(t, code); n != 0 || len(by) != 0 {
			t.Errorf("link %s counts %d reshares %v, want none", code, n, by)
		}
	}
	if status, _, body := env.share(t, `{"code":"`+env.whatsapp+`","via":5}`); status != http.StatusBadRequest || !strings.Contains(body, "bad_request") {
		t.Errorf("a via that is no string: %d %s, want 400 as any malformed body", status, body)
	}
}

// A via that names an enabled link of the same page counts a reshare of
// it, by the channel of the new share; a link of the page's address with a
// parameter the page address drops is of the same page.
func TestShareViaCountsAReshare(t *testing.T) {
	env := newReshareEnv(t)
	for _, tt := range []struct{ code, via string }{
		{env.whatsapp, env.email},
		{env.whatsappRef, env.email}, // the same page
		{env.email, env.email},       // shared again by email
		{env.whatsapp, env.whatsapp},
	} {
		if status, _, body := env.share(t, shareBody(tt.code, tt.via)); status != http.StatusNoContent || body != "" {
			t.Fatalf("share %s via %s: %d %s", tt.code, tt.via, status, body)
		}
	}
	if n, by := env.resharesOf(t, env.email); n != 3 || !maps.Equal(by, map[string]uint64{"whatsapp": 2, "email": 1}) {
		t.Errorf("email link: %d reshares %v, want 3: whatsapp 2, email 1", n, by)
	}
	if n, by := env.resharesOf(t, env.whatsapp); n != 1 || !maps.Equal(by, map[string]uint64{"whatsapp": 1}) {
		t.Errorf("whatsapp link: %d reshares %v, want 1 by whatsapp", n, by)
	}
	// Shares are counted on the link shared, as without a via.
	_, body := env.do(t, http.MethodGet, "/api/v1/links/"+env.whatsapp+"/stats", "", env.bearer())
	if !strings.Contains(body, `"shares":2`) {
		t.Errorf("whatsapp link stats %s, want 2 shares", body)
	}
}

// Shares with a via count against the share limit like any other.
func TestShareViaRateLimited(t *testing.T) {
	env := newReshareEnv(t)
	h := beaconHeaders("198.51.100.9")
	for i := range DefaultLimits.Share.N + 1 {
		resp, body := env.do(t, http.MethodPost, "/api/v1/shares", shareBody(env.whatsapp, env.email), h)
		if limited := resp.StatusCode == http.StatusTooManyRequests; limited != (i == DefaultLimits.Share.N) {
			t.Fatalf("share %d of %d: %d %s", i+1, DefaultLimits.Share.N+1, resp.StatusCode, body)
		}
	}
	if n, _ := env.resharesOf(t, env.email); n != uint64(DefaultLimits.Share.N) {
		t.Errorf("%d reshares counted, want %d: the refused one must not count", n, DefaultLimits.Share.N)
	}
}

// The page's stats, its report, the dashboard and the export show the
// reshares and each arriving channel's reshares per click.
func TestAmplificationShown(t *testing.T) {
	env := newReshareEnv(t)
	for _, addr := range []string{"198.51.100.1", "198.51.100.2"} {
		if resp, _ := env.do(t, http.MethodGet, "/"+env.email, "", header{"User-Agent": iphoneSafari, "X-Forwarded-For": addr}); resp.StatusCode != http.StatusFound {
			t.Fatalf("click: %d", resp.StatusCode)
		}
	}
	env.share(t, shareBody(env.whatsapp, env.email))

	_, body := env.do(t, http.MethodGet, "/api/v1/stats?url="+reshareStory, "", env.bearer())
	var p pageStats
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	a := p.Amplification[link.Email]
	if a.Clicks != 2 || a.Reshares != 1 || a.ResharesPerClick != 0.5 || a.MostlyTo != "whatsapp" || p.Reshares != 1 {
		t.Errorf("page stats: reshares %d, email amplification %+v; want 1 of 2 clicks, mostly to whatsapp", p.Reshares, a)
	}
	const line = "email: 0.50 reshares a click, mostly to whatsapp"
	for _, path := range []string{"/dashboard", "/dashboard/page?url=" + reshareStory} {
		if resp, page := env.do(t, http.MethodGet, path, "", env.bearer()); resp.StatusCode != 200 || !strings.Contains(page, line) {
			t.Errorf("%s: %d, without %q", path, resp.StatusCode, line)
		}
	}
	if _, page := env.do(t, http.MethodGet, "/stats/"+env.email, "", env.bearer()); !strings.Contains(page, `<span class="n" id="reshares-total">1</span>`) ||
		!strings.Contains(page, `<tr class="reshare-whatsapp"><td>whatsapp</td><td>1</td>`) {
		t.Errorf("the email link's stats page does not show its reshare by whatsapp")
	}

	_, export := env.do(t, http.MethodGet, "/api/v1/admin/export?format=csv&by=link&days=1", "", env.bearer())
	rows, err := csv.NewReader(strings.NewReader(export)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	found := false
	for _, r := range rows[1:] {
		if r[col("code")] == env.email {
			found = r[col("reshares")] == "1" && r[col("reshares_to_whatsapp")] == "1" && r[col("reshares_to_email")] == "0"
		}
	}
	if !found {
		t.Errorf("export has no reshares of the email link: %s", export)
	}
	_, export = env.do(t, http.MethodGet, "/api/v1/admin/export?format=json&days=1", "", env.bearer())
	var days []exportRow
	if err := json.Unmarshal([]byte(export), &days); err != nil {
		t.Fatal(err)
	}
	found = false
	for _, r := range days {
		if r.Code == env.email {
			found = r.Reshares == 1 && r.ResharesByChannel[string(link.WhatsApp)] == 1
		}
	}
	if !found {
		t.Errorf("JSON export has no row of the email link with 1 reshare by whatsapp: %s", export)
	}
}
