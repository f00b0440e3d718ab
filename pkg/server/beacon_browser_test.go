package server

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/darkshare/darkshare/pkg/stats"
)

// These tests put the landing beacon on a site's pages, as a site does: a
// second origin loads beacon.js from the service under a CSP that allows
// the service and nothing else.

// beaconPage is a page of the site; {{head}} is the page's own meta tags.
const beaconPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The Example Ledger</title>
{{head}}
<script src="{{service}}/static/beacon.js" async></script>
</head>
<body>
<h1>The Example Ledger</h1>
<p><a id="home" href="/">Home</a></p>
</body>
</html>
`

// startBeaconSite serves the site's pages, each with the beacon from
// service: path → the page's extra head.
func startBeaconSite(t *testing.T, service string, pages map[string]string) string {
	t.Helper()
	mux := http.NewServeMux()
	csp := fmt.Sprintf("default-src 'none'; script-src %[1]s; connect-src %[1]s; base-uri 'none'; form-action 'none'", service)
	for path, head := range pages {
		body := strings.NewReplacer("{{head}}", head, "{{service}}", service).Replace(beaconPage)
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != strings.TrimSuffix(path, "{$}") {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Security-Policy", csp)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		})
	}
	mux.HandleFunc("GET /favicon.ico", http.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// waitViews polls the views of a page until they are want, for up to 5 s:
// the beacon arrives after the page has loaded.
func waitViews(t *testing.T, env *testEnv, page string, want map[stats.Metric]uint64) {
	t.Helper()
	waitKeyViews(t, env, stats.PageKey(page), want)
}

// waitKeyViews waits until key's views are want. A view is added to its
// page and then to the site: seeing the page's does not mean the site's
// is there yet.
func waitKeyViews(t *testing.T, env *testEnv, key string, want map[stats.Metric]uint64) {
	t.Helper()
	var got map[stats.Metric]uint64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = viewsOf(t, env, key); maps.Equal(got, want) {
			return
		}
	}
	t.Errorf("views of %s: %v, want %v", key, got, want)
}

func TestBrowserBeaconCountsViews(t *testing.T) {
	env, ctx := startWithBrowser(t)
	site := startBeaconSite(t, env.base, map[string]string{
		"/{$}":                 `<meta property="og:type" content="website">`,
		"/news/rates-rise":     `<meta property="og:type" content="article">`,
		"/2026/05/savings-tip": ``, // deep by its path
	})
	story, deep := site+"/news/rates-rise", site+"/2026/05/savings-tip"
	code := byChannel(t, mintOverHTTP(t, env, story, "email"), "email").Code
	problems := watchConsole(t, ctx)

	// Through a short link: the redirect added the marker, which the beacon
	// takes out of the address bar, and nothing else.
	run(t, ctx, chromedp.Navigate(story+"?dsl="+code+"&x=1#frag"))
	loc := get(t, ctx, chromedp.Poll[string](`!location.search.includes("dsl") && location.href`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if want := story + "?x=1#frag"; loc != want {
		t.Errorf("address bar %s, want %s", loc, want)
	}
	if n := get(t, ctx, chromedp.Evaluate[int](`history.length`)); n != 2 {
		t.Errorf("history has %d entries, want 2 (about:blank, the story): the marker's removal must replace, not push", n)
	}
	// Counted for the page's address, which keeps no parameter off
	// --page-params.
	waitViews(t, env, story, map[stats.Metric]uint64{"view:short-link": 1})
	if got := viewsOf(t, env, stats.PageKey(story+"?dsl="+code+"&x=1")); len(got) != 0 {
		t.Errorf("the address with the marker has views: %v", got)
	}

	// A deep page opened with no referrer: a link pasted in a chat.
	run(t, ctx, chromedp.Navigate(deep))
	waitViews(t, env, deep, map[stats.Metric]uint64{"view:dark-social": 1})
	if got := get(t, ctx, chromedp.Location()); got != deep {
		t.Errorf("address bar %s changed without a marker", got)
	}

	// From there to the home page: a referrer of the same site.
	run(t, ctx, chromedp.Click(chromedp.ID("home")), chromedp.WaitVisible(chromedp.CSS("h1")))
	waitViews(t, env, site+"/", map[stats.Metric]uint64{"view:internal": 1})

	// The home page, typed in: direct, not dark.
	run(t, ctx, chromedp.Navigate(site+"/"))
	waitViews(t, env, site+"/", map[stats.Metric]uint64{"view:internal": 1, "view:direct-home": 1})

	waitKeyViews(t, env, stats.SiteKey,
		map[stats.Metric]uint64{"view:short-link": 1, "view:dark-social": 1, "view:internal": 1, "view:direct-home": 1})
	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

// TestBrowserBeaconNeverBreaksAPage loads the beacon where it can do
// nothing: from a service that refuses the site's host, and with no
// sendBeacon. The page must load with no error.
func TestBrowserBeaconNeverBreaksAPage(t *testing.T) {
	env, ctx := startWithBrowser(t)
	site := startBeaconSite(t, env.base, map[string]string{"/a-story": ``})
	// localhost is the same machine under a name off the allow-list.
	other := strings.Replace(site, "127.0.0.1", "localhost", 1)
	problems := watchConsole(t, ctx)
	run(t, ctx, chromedp.Navigate(other+"/a-story?dsl=nosuchcode&y=2"))
	loc := get(t, ctx, chromedp.Poll[string](`!location.search.includes("dsl") && location.href`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if want := other + "/a-story?y=2"; loc != want {
		t.Errorf("address bar %s, want %s", loc, want)
	}

	// Without sendBeacon, the fetch fallback reports the view.
	run(t, ctx, chromedp.Navigate(site+"/a-story"))
	got := get(t, ctx, chromedp.Evaluate[string](`new Promise((done) => {
		navigator.sendBeacon = undefined;
		window.onerror = (m) => done("error: " + m);
		const s = document.createElement("script");
		s.src = document.querySelector('script[src$="/beacon.js"]').src;
		s.onload = () => setTimeout(() => done("loaded"), 300);
		document.head.append(s);
	})`, chromedp.EvalAwaitPromise))
	if got != "loaded" {
		t.Errorf("beacon without sendBeacon: %s", got)
	}
	waitViews(t, env, site+"/a-story", map[stats.Metric]uint64{"view:dark-social": 2})
	if n := viewsOf(t, env, stats.SiteKey); n["view:dark-social"] != 2 || len(n) != 1 {
		t.Errorf("site-wide views %v: the refused host counted", n)
	}
	for _, p := range widgetProblems(problems()) {
		t.Errorf("browser reported: %s", p)
	}
}
