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

	"github.com/darkshare/darkshare/pkg/link"
)

// resharePage is an article with the landing beacon and the share widget,
// as a site puts them. The beacon runs first, so it has taken the marker
// out of the address bar before the widget starts: the widget must still
// know which link brought the reader.
const resharePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Savings rates rise again</title>
<meta property="og:type" content="article">
<script src="{{service}}/static/beacon.js"></script>
<script src="{{service}}/static/share.js" defer></script>
</head>
<body>
<h1>Savings rates rise again</h1>
<div id="share" data-darkshare data-channels="email,whatsapp,copy"></div>
</body>
</html>
`

// A reader arrives through the email link, on a page with the beacon and
// the widget, and shares it by WhatsApp: the email link counts one reshare
// by whatsapp, the whatsapp link one share, and the address bar holds no
// marker. Nothing is kept in the browser.
func TestBrowserReshareByWhatsApp(t *testing.T) {
	ctx := newBrowser(t)
	env := startServerSpec(t, envSpec{policy: func(p *link.Policy) { p.Marker = true }})
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })

	mux := http.NewServeMux()
	csp := fmt.Sprintf("default-src 'none'; script-src %[1]s; style-src %[1]s; img-src %[1]s; connect-src %[1]s; base-uri 'none'; form-action 'none'", env.base)
	body := strings.ReplaceAll(resharePage, "{{service}}", env.base)
	mux.HandleFunc("GET /news/rates-rise", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("GET /favicon.ico", http.NotFound)
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	story := site.URL + "/news/rates-rise"

	m := mintOverHTTP(t, env, story, "email", "whatsapp")
	email, whatsapp := byChannel(t, m, "email"), byChannel(t, m, "whatsapp")
	problems := watchConsole(t, ctx)

	run(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(email.ShortURL))
	if got := waitWidgets(t, ctx, 10*time.Second); len(got) != 1 || got[0] != "ready" {
		t.Fatalf("widget %q, want ready", got)
	}
	if loc := get(t, ctx, chromedp.Location()); loc != story {
		t.Errorf("address bar %s, want %s: no marker", loc, story)
	}
	// The reader's click opens WhatsApp in a new tab; here it stays on the
	// page, with the widget's own handling of the click untouched.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.addEventListener("click", (e) => e.preventDefault(), true)`))
	run(t, ctx, chromedp.Click(chromedp.CSS("#share .darkshare__btn--whatsapp")))

	var reshares uint64
	var by map[string]uint64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var s linkStats
		env.live(t, http.MethodGet, "/api/v1/links/"+email.Code+"/stats", nil, http.StatusOK, &s)
		if reshares, by = s.Reshares, s.ResharesByChannel; reshares > 0 {
			break
		}
	}
	if reshares != 1 || !maps.Equal(by, map[string]uint64{"whatsapp": 1}) {
		t.Errorf("email link: %d reshares %v, want 1 by whatsapp", reshares, by)
	}
	waitCounts(t, env, whatsapp.Code, 0, 1)
	waitCounts(t, env, email.Code, 1, 0) // the reader's arrival

	if loc := get(t, ctx, chromedp.Location()); strings.Contains(loc, link.MarkerParam+"=") {
		t.Errorf("address bar %s holds the marker", loc)
	}
	kept := get(t, ctx, chromedp.Evaluate[string](`document.cookie + "|" + localStorage.length + "|" + sessionStorage.length`))
	if kept != "|0|0" {
		t.Errorf("cookies, local and session storage: %q, want none", kept)
	}

	run(t, ctx, chromedp.Navigate(email.StatsURL), chromedp.WaitVisible(chromedp.ID("reshares-total")))
	if got := get(t, ctx, chromedp.Text(chromedp.ID("reshares-total"))); got != "1" {
		t.Errorf("stats page shows %q reshares, want 1", got)
	}
	saveScreenshot(t, ctx, "stats-reshares.png")
	for _, p := range widgetProblems(problems()) {
		t.Errorf("browser reported: %s", p)
	}
}
