package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

const (
	viewStory = "https://news.example.org/2026/05/rates-rise-again"
	viewHome  = "https://news.example.org/"
	// instagramUA is an in-app browser.
	instagramUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 10_2 like Mac OS X) AppleWebKit/602.3.12 (KHTML, like Gecko) Mobile/14C92 Instagram 10.7.0 (iPhone9,3; iOS 10_2; en_GB; en-GB; scale=2.00; gamut=wide; 750x1334)"
)

// beaconHeaders are what sendBeacon sends, from a reader at addr.
func beaconHeaders(addr string) header {
	return header{"Content-Type": "text/plain;charset=UTF-8", "X-Forwarded-For": addr}
}

// viewBody is a beacon's body.
func viewBody(page, referrer, marker, kind string) string {
	b, _ := json.Marshal(viewRequest{URL: page, Referrer: referrer, Marker: marker, Kind: kind})
	return string(b)
}

// viewsOf returns the counters under key on the days around today, pending
// ones included.
func viewsOf(t testing.TB, env *testEnv, key string) map[stats.Metric]uint64 {
	t.Helper()
	today := stats.DayOf(time.Now())
	sum, err := env.agg.Summary(context.Background(), key, stats.Period{From: today - 1, To: today + 1})
	if err != nil {
		t.Fatal(err)
	}
	return sum.Totals
}

func TestViewsCountedPerClassUnderPageAndSite(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	links := env.mint(t, `{"url":"`+viewStory+`","channels":["email","whatsapp"]}`, nil).Links
	email, whatsapp := links[0].Code, links[1].Code
	if resp, body := env.do(t, http.MethodPatch, "/api/v1/links/"+whatsapp, `{"disabled":true}`, env.bearer()); resp.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}

	for _, v := range []struct {
		name                      string
		page, referrer, marker, k string
		ua                        string // "" is desktop Chrome
	}{
		{name: "marker of a link", page: viewStory, marker: email},
		{name: "marker left in the address", page: viewStory + "?dsl=" + email, marker: email},
		{name: "unknown marker", page: viewStory, marker: "nosuchcode"},
		{name: "malformed marker", page: viewStory, marker: "../../etc"},
		{name: "marker of a disabled link", page: viewStory, marker: whatsapp},
		{name: "no referrer, deep page", page: viewStory},
		{name: "Gmail", page: viewStory, referrer: "https://mail.google.com/mail/u/0/"},
		{name: "WhatsApp Web", page: viewStory, referrer: "https://web.whatsapp.com/"},
		{name: "in-app browser", page: viewStory, ua: instagramUA},
		{name: "Facebook", page: viewStory, referrer: "https://l.facebook.com/l.php?u=x"},
		{name: "Google", page: viewStory, referrer: "https://www.google.com/"},
		{name: "another site", page: viewStory, referrer: "https://blog.other.example/post"},
		{name: "same site", page: viewStory, referrer: viewHome},
		{name: "home page", page: viewHome},
		{name: "deep path, og:type website", page: viewStory, k: "website"},
		{name: "tracking and fragment dropped", page: viewHome + "?utm_source=x#top"},
		{name: "curl", page: viewStory, ua: "curl/8.5.0"},
		{name: "Googlebot", page: viewStory, ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
		{name: "WhatsApp preview", page: viewStory, ua: "WhatsApp/2.23.20.0 A"},
		{name: "no user agent", page: viewStory, ua: "-"},
	} {
		h := beaconHeaders("198.51.100.7")
		switch v.ua {
		case "":
		case "-":
			h["User-Agent"] = ""
		default:
			h["User-Agent"] = v.ua
		}
		if resp, body := env.do(t, http.MethodPost, "/api/v1/views", viewBody(v.page, v.referrer, v.marker, v.k), h); resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s: %d %s, want 204", v.name, resp.StatusCode, body)
		}
	}

	story := map[stats.Metric]uint64{
		"view:short-link": 2, "view:dark-social": 7, "view:social": 1, "view:search": 1,
		"view:referral": 1, "view:internal": 1, "view:direct-home": 1,
	}
	home := map[stats.Metric]uint64{"view:direct-home": 2}
	site := maps.Clone(story)
	site["view:direct-home"] += 2
	for key, want := range map[string]map[stats.Metric]uint64{
		stats.PageKey(viewStory): story, stats.PageKey(viewHome): home, stats.SiteKey: site,
	} {
		if got := viewsOf(t, env, key); !maps.Equal(got, want) {
			t.Errorf("%q: %v, want %v", key, got, want)
		}
	}
	// The marker never makes a page of its own.
	if got := viewsOf(t, env, stats.PageKey(viewStory+"?dsl="+email)); len(got) != 0 {
		t.Errorf("the address with its marker has views of its own: %v", got)
	}
	// No view reached the link's own counters.
	if got := clicksOf(t, env, email); got != 0 {
		t.Errorf("views counted as %d clicks", got)
	}

	resp, body := env.do(t, http.MethodGet, "/metrics", "", env.bearer())
	for _, line := range []string{`darkshare_page_views_total{class="short-link"} 2`, `darkshare_page_views_total{class="dark-social"} 7`, `darkshare_page_views_total{class="direct-home"} 3`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, line) {
			t.Errorf("/metrics (%d) lacks %s", resp.StatusCode, line)
		}
	}
}

func TestViewsRefused(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	h := beaconHeaders("198.51.100.8")
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"host not allowed", viewBody("https://elsewhere.example/a-b", "", "", ""), 403, "host_not_allowed"},
		{"bare domain of a wildcard", viewBody("https://example.com/a-b", "", "", ""), 403, "host_not_allowed"},
		{"blocked host", viewBody("https://x.evil.example.com/a-b", "", "", ""), 403, "host_blocked"},
		{"the service itself", viewBody("https://s.test/demo", "", "", ""), 403, "host_not_allowed"},
		{"not http", viewBody("ftp://news.example.org/a", "", "", ""), 400, "invalid_url"},
		{"javascript", viewBody("javascript:alert(1)", "", "", ""), 400, "invalid_url"},
		{"relative", viewBody("/a-b", "", "", ""), 400, "invalid_url"},
		{"no url", `{"referrer":""}`, 400, "invalid_url"},
		{"credentials", viewBody("https://u:p@news.example.org/a", "", "", ""), 400, "invalid_url"},
		{"too long", viewBody("https://news.example.org/"+strings.Repeat("a", 2100), "", "", ""), 400, "invalid_url"},
		{"unknown field", `{"url":"` + viewStory + `","ua":"x"}`, 400, "bad_request"},
		{"wrong type", `{"url":"` + viewStory + `","marker":5}`, 400, "bad_request"},
		{"two objects", `{"url":"` + viewStory + `"}{}`, 400, "bad_request"},
		{"not json", `url=` + viewStory, 400, "bad_request"},
		{"empty", ``, 400, "bad_request"},
		{"array", `[]`, 400, "bad_request"},
	} {
		resp, body := env.do(t, http.MethodPost, "/api/v1/views", tt.body, h)
		var e errorResult
		if resp.StatusCode != tt.status || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, body, tt.status, tt.code)
		}
	}
	if got := viewsOf(t, env, stats.SiteKey); len(got) != 0 {
		t.Errorf("refused views were counted: %v", got)
	}
	if resp, _ := env.do(t, http.MethodGet, "/api/v1/views", "", nil); resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/v1/views: %d", resp.StatusCode)
	}
}

func TestViewsRateLimited(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	h, other := beaconHeaders("198.51.100.9"), beaconHeaders("198.51.100.10")
	body := viewBody(viewStory, "", "", "")
	limited := 0
	for range DefaultLimits.View.N + 3 {
		resp, got := env.do(t, http.MethodPost, "/api/v1/views", body, h)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(got, `"rate_limited"`) {
				t.Fatalf("429 without Retry-After or JSON error: %v %s", resp.Header, got)
			}
		}
	}
	if limited != 3 {
		t.Errorf("%d of %d views refused, want 3 over the limit of %d", limited, DefaultLimits.View.N+3, DefaultLimits.View.N)
	}
	if resp, _ := env.do(t, http.MethodPost, "/api/v1/views", body, other); resp.StatusCode != http.StatusNoContent {
		t.Errorf("another address was limited too: %d", resp.StatusCode)
	}
	if got, want := viewsOf(t, env, stats.SiteKey)["view:dark-social"], uint64(DefaultLimits.View.N+1); got != want {
		t.Errorf("%d views counted, want %d", got, want)
	}
}

func TestViewsCORS(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	for origin, allow := range map[string]bool{"https://news.example.org": true, "https://elsewhere.example": false} {
		resp, _ := env.do(t, http.MethodOptions, "/api/v1/views", "", header{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); (got == origin) != allow || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight from %s: Allow-Origin %q, Allow-Credentials %q", origin, got, resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}

func TestPageStatsShowViews(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"`+viewStory+`","channels":["email"]}`, nil).Links[0].Code
	h := beaconHeaders("198.51.100.11")
	for _, body := range []string{
		viewBody(viewStory, "", code, ""),                            // short-link
		viewBody(viewStory, "", "", ""),                              // dark-social
		viewBody(viewStory, "https://www.google.com/", "", ""),       // search
		viewBody(viewStory, viewHome, "", ""),                        // internal
		viewBody("https://news.example.org/other-story", "", "", ""), // another page
	} {
		if resp, got := env.do(t, http.MethodPost, "/api/v1/views", body, h); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, got)
		}
	}
	check := func(stage string) {
		t.Helper()
		resp, body := env.do(t, http.MethodGet, "/api/v1/stats?url="+viewStory, "", env.bearer())
		var p pageStats
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &p) != nil {
			t.Fatalf("page stats: %d %s", resp.StatusCode, body)
		}
		v := p.Views
		if v.Total != 4 || v.DarkSocial != 2 || v.DarkSocialShare != 0.5 || v.ByClass["short-link"] != 1 || v.ByClass["search"] != 1 || v.ByClass["referral"] != 0 {
			t.Errorf("%s: views %+v, want 4 of which 2 dark (short-link 1, dark-social 1), share 0.5", stage, v.ViewBreakdown)
		}
		if len(v.ByClass) != 7 || v.Method != track.LandingMethod {
			t.Errorf("%s: %d classes, method %q", stage, len(v.ByClass), v.Method)
		}
		for _, field := range []string{`"views":{"total":4,"by_class":{`, `"dark_social":2,"dark_social_share":0.5,"method":"`} {
			if !strings.Contains(body, field) {
				t.Errorf("%s: the answer lacks %s: %s", stage, field, body)
			}
		}
	}
	check("pending")
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := env.db.Fold(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("folded")
}

// The user agent, address and referrer of a view serve its class and are
// dropped: none reaches the db file.
func TestViewsKeepNoPersonalData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "darkshare.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	env := newTestEnv(t, db, "https://s.test")
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ViewProbe/9.8.7 Chrome/131.0.0.0 Safari/537.36"
	const ip = "198.51.100.77"
	h := beaconHeaders(ip)
	h["User-Agent"] = ua
	for _, ref := range []string{"", "https://mail.google.com/mail/u/0/#inbox/ViewProbeMessage", "https://blog.other.example/ViewProbePost"} {
		if resp, body := env.do(t, http.MethodPost, "/api/v1/views", viewBody(viewStory, ref, "", ""), h); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	ctx := context.Background()
	if err := env.agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := env.db.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for what, needle := range map[string]string{"user agent": "ViewProbe/", "referrer": "ViewProbeMessage", "referrer host": "blog.other.example", "address": ip} {
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("the db file holds the %s", what)
		}
	}
	if !bytes.Contains(raw, []byte(stats.PageKey(viewStory))) {
		t.Fatal("the views are not in the db file: the scan proves nothing")
	}
}

func TestBeaconServedLikeTheWidget(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	stable, body := env.do(t, http.MethodGet, "/static/beacon.js", "", nil)
	if stable.StatusCode != http.StatusOK || !strings.Contains(body, "/api/v1/views") ||
		stable.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" || !strings.HasPrefix(stable.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /static/beacon.js: %d %v", stable.StatusCode, stable.Header)
	}
	etag := strings.Trim(stable.Header.Get("ETag"), `"`)
	hashed, _ := env.do(t, http.MethodGet, fmt.Sprintf("/static/beacon.%s.js", etag), "", nil)
	if hashed.StatusCode != http.StatusOK || !strings.Contains(hashed.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("hashed URL: %d %q", hashed.StatusCode, hashed.Header.Get("Cache-Control"))
	}
}
