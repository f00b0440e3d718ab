package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/darkshare/darkshare/static"
)

// These tests embed the share widget the way a site does: an article page on
// a second origin loads share.js from the service, under a CSP that names the
// service and nothing else, so an inline style or script the widget added
// would be reported.

const (
	articleTitle = "Savings rates rise again — what it means for you"
	articleDesc  = "Three things to check before you move your savings, and one thing not to do."
	// articleLong is over the copy-tracking threshold of the main widget (40).
	articleLong = "Banks raised their easy-access rates for the third month running, " +
		"but most savers still hold accounts that pay a fraction of the best deals."
	articleShort = "shop around" // under it
	articleCode  = "rate = base_rate + margin  # a code sample over forty characters"
	articleInput = "A comment long enough to pass the copy threshold, typed in a form field."
)

// articleHTML is the page; {{head}} is where the widget's script goes.
const articleHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + articleTitle + `</title>
<meta name="description" content="` + articleDesc + `">
<link rel="stylesheet" href="/site.css">
{{head}}
</head>
<body>
<header class="masthead">The Example Ledger</header>
<article>
<h1>Savings rates rise again</h1>
<p class="standfirst">Three things to check before you move your savings.</p>
<div id="share-main" data-darkshare data-copy-tracking data-copy-min="40"></div>
<p id="long">` + articleLong + `</p>
<p>In short: <em id="short">` + articleShort + `</em>.</p>
<pre id="code"><code>` + articleCode + `</code></pre>
<p>Fixed-rate bonds pay more again, if you can leave the money alone for a year or two.
Check the notice period, the protection limit, and whether the rate is a bonus that ends.</p>
<aside class="share-fr" lang="fr"><span>Partager&nbsp;:</span>
<div id="share-fr" data-darkshare data-style="compact" data-lang="fr" data-channels="copy,email"></div>
</aside>
<form class="comment"><label for="comment">Your comment</label>
<textarea id="comment" rows="3">` + articleInput + `</textarea></form>
</article>
</body>
</html>
`

// articleCSS is the site's own style. Its .darkshare rule must win over the
// widget's (gap: 8px): the widget puts its stylesheet first.
const articleCSS = `body { margin: 0; font: 18px/1.6 Georgia, "DejaVu Serif", serif; color: #1d1d1f; background: #fffdf8; }
.masthead { padding: .75rem 1.25rem; border-bottom: 3px double #1d1d1f; font-weight: bold; letter-spacing: .04em; }
article { max-width: 44rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 1rem 0 .5rem; }
.standfirst { font-size: 1.15rem; color: #555; }
pre { overflow: auto; padding: .75rem; background: #f1efe9; }
.darkshare { gap: 10px; }
.share-fr { display: flex; align-items: center; gap: .75rem; margin: 1.5rem 0; }
.comment textarea { box-sizing: border-box; width: 100%; font: inherit; }
`

// articleSite is a site that embeds the widget.
type articleSite struct {
	origin  string // http://127.0.0.1:PORT
	article string // the page with the widget
	plain   string // the same page without it
}

// startArticleSite serves the article with share.js loaded from service, or,
// if service is "", from the site itself; routes the caller put on mux stay.
func startArticleSite(t *testing.T, service string, mux *http.ServeMux) *articleSite {
	t.Helper()
	if mux == nil {
		mux = http.NewServeMux()
	}
	srv := httptest.NewUnstartedServer(mux)
	s := &articleSite{origin: "http://" + srv.Listener.Addr().String()}
	s.article, s.plain = s.origin+"/article", s.origin+"/plain"
	if service == "" {
		service = s.origin
	}
	csp := fmt.Sprintf("default-src 'none'; script-src %[1]s; style-src 'self' %[1]s; img-src %[1]s; connect-src %[1]s; base-uri 'none'; form-action 'none'", service)
	page := func(head string) http.HandlerFunc {
		body := strings.Replace(articleHTML, "{{head}}", head, 1)
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", csp)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("GET /article", page(`<script src="`+service+`/static/share.js" defer></script>`))
	mux.HandleFunc("GET /plain", page(""))
	mux.HandleFunc("GET /site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, articleCSS)
	})
	mux.HandleFunc("GET /favicon.ico", http.NotFound)
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// widgetButton is what a reader gets from one button of a widget.
type widgetButton struct {
	Channel string `json:"channel"`
	Tag     string `json:"tag"`
	Href    string `json:"href"`
	Hidden  bool   `json:"hidden"`
	Code    string `json:"code"`
	Target  string `json:"target"`
	Rel     string `json:"rel"`
	Label   string `json:"label"` // aria-label
	Title   string `json:"title"`
	Text    string `json:"text"`
}

// widgetButtons returns the buttons of the widget in the container with id.
func widgetButtons(t *testing.T, ctx context.Context, id string) []widgetButton {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[[]widgetButton](fmt.Sprintf(`[...document.querySelectorAll("#%s .darkshare__btn")].map(b => ({
		channel: b.dataset.channel, tag: b.localName, href: b.getAttribute("href") || "", hidden: b.hidden,
		code: b.dataset.code || "", target: b.getAttribute("target") || "", rel: b.getAttribute("rel") || "",
		label: b.getAttribute("aria-label") || "", title: b.getAttribute("title") || "", text: b.textContent.trim()}))`, id)))
}

func buttonOf(t *testing.T, buttons []widgetButton, channel string) widgetButton {
	t.Helper()
	for _, b := range buttons {
		if b.Channel == channel {
			return b
		}
	}
	t.Fatalf("no %s button in %+v", channel, buttons)
	return widgetButton{}
}

// waitWidgets waits until every widget on the page has left "pending" and
// returns their states in document order.
func waitWidgets(t *testing.T, ctx context.Context, timeout time.Duration) []string {
	t.Helper()
	const states = `[...document.querySelectorAll("[data-darkshare]")].map(e => e.dataset.darkshareState || "")`
	got, err := chromedp.Run(ctx, chromedp.Poll[[]string](`(s => s.length && s.every(x => x && x !== "pending") && s)(`+states+`)`,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if errors.Is(err, chromedp.ErrPollingTimeout) {
		now := get(t, ctx, chromedp.Evaluate[[]string](states))
		t.Fatalf("after %v the widgets are in states %q: share.js did not load, or minting neither answered nor gave up", timeout, now)
	}
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// allowClipboard lets the page of origin read and write the clipboard, and
// keeps the tab focused, as the async clipboard API requires.
func allowClipboard(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	for _, p := range []browser.PermissionDescriptor{
		{Name: "clipboard-read"},
		{Name: "clipboard-write", AllowWithoutSanitization: true},
	} {
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &p, Setting: browser.PermissionSettingGranted, Origin: origin,
		})
		if err != nil {
			t.Fatalf("grant %s: %v", p.Name, err)
		}
	}
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
}

func readClipboard(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
}

// asUserGesture runs a script as if the reader had just pressed a key:
// document.execCommand("copy") needs that.
func asUserGesture(p *runtime.EvaluateParams) { p.UserGesture = new(true) }

// copySelection selects what selectJS picks and copies it as the reader's
// Ctrl+C would. It returns the selected text.
func copySelection(t *testing.T, ctx context.Context, selectJS string) string {
	t.Helper()
	type result struct {
		Text string `json:"text"`
		OK   bool   `json:"ok"`
	}
	r := get(t, ctx, chromedp.Evaluate[result](`(() => {
		getSelection().removeAllRanges();
		const text = (() => {`+selectJS+`})();
		return {text, ok: document.execCommand("copy")};
	})()`, asUserGesture))
	if !r.OK {
		t.Fatalf("execCommand(copy) refused after %s", selectJS)
	}
	return r.Text
}

const selectNodeJS = `const r = document.createRange();
	r.selectNodeContents(document.querySelector(%q));
	getSelection().addRange(r);
	return getSelection().toString();`

// linkCounts is a link's counters, read over HTTP as the site owner would.
type linkCounts struct {
	Clicks uint64  `json:"clicks"`
	Shares *uint64 `json:"shares"` // nil: the server reports no shares
}

func (c linkCounts) String() string {
	if c.Shares == nil {
		return fmt.Sprintf("clicks %d, no shares field", c.Clicks)
	}
	return fmt.Sprintf("clicks %d, shares %d", c.Clicks, *c.Shares)
}

func countsOf(t *testing.T, env *testEnv, code string) linkCounts {
	t.Helper()
	var c linkCounts
	env.live(t, http.MethodGet, "/api/v1/links/"+code+"/stats", nil, http.StatusOK, &c)
	return c
}

// waitCounts polls a link's counters for up to 5s, since share beacons
// arrive after the click that sent them.
func waitCounts(t *testing.T, env *testEnv, code string, clicks, shares uint64) {
	t.Helper()
	want := linkCounts{Clicks: clicks, Shares: &shares}
	var got linkCounts
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = countsOf(t, env, code); got.String() == want.String() {
			return
		}
	}
	t.Errorf("link %s: %s, want %s", code, got, want)
}

// encodeURIComponent is JavaScript's, to predict the widget's hrefs.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// wantHrefs is what each link button must point at when it shares link.
func wantHrefs(link string) map[string]string {
	e := encodeURIComponent
	return map[string]string{
		"email":    "mailto:?subject=" + e(articleTitle) + "&body=" + e(articleDesc) + "%0A%0A" + e(link),
		"sms":      "sms:?&body=" + e(articleDesc+" "+link),
		"whatsapp": "https://wa.me/?text=" + e(articleDesc+" "+link),
		"telegram": "https://t.me/share/url?url=" + e(link) + "&text=" + e(articleDesc),
	}
}

// widgetProblems are the problems the widget could be blamed for: the
// browser's own network log lines (a refused or dropped request) are left out.
func widgetProblems(problems []string) []string {
	return slices.DeleteFunc(problems, func(p string) bool { return strings.HasPrefix(p, "log error (network)") })
}

func TestBrowserWidgetShortLinks(t *testing.T) {
	env, ctx := startWithBrowser(t)
	site := startArticleSite(t, env.base, nil)
	problems := watchConsole(t, ctx)

	run(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(site.plain))
	globalsBefore := get(t, ctx, chromedp.Evaluate[[]string](`Object.getOwnPropertyNames(window)`))

	run(t, ctx, chromedp.Navigate(site.article))
	if got := waitWidgets(t, ctx, 10*time.Second); !slices.Equal(got, []string{"ready", "ready"}) {
		t.Fatalf("widget states %q, want both ready: did the service refuse the mint (CORS, allow-list)?", got)
	}

	globals := get(t, ctx, chromedp.Evaluate[[]string](`Object.getOwnPropertyNames(window)`))
	if added := slices.DeleteFunc(globals, func(g string) bool { return slices.Contains(globalsBefore, g) }); !slices.Equal(added, []string{"darkshare"}) {
		t.Errorf("share.js added the globals %q, want only darkshare", added)
	}

	all := []string{"email", "sms", "whatsapp", "messenger", "telegram", "copy", "native", "qr"}
	m := mintOverHTTP(t, env, site.article, all...)
	if m.URL != site.article {
		t.Fatalf("the service normalised %s to %s", site.article, m.URL)
	}
	hasShare := get(t, ctx, chromedp.Evaluate[bool](`typeof navigator.share === "function"`))

	main := widgetButtons(t, ctx, "share-main")
	if got := channelsOf(main); !slices.Equal(got, all) {
		t.Errorf("main widget channels %q, want all in the default order %q", got, all)
	}
	for _, b := range main {
		l := byChannel(t, m, b.Channel)
		switch b.Channel {
		case "messenger":
			if !b.Hidden {
				t.Errorf("messenger shown on desktop without data-fb-app-id, href %q", b.Href)
			}
			continue
		case "native":
			if b.Hidden == hasShare {
				t.Errorf("native button hidden=%v, but navigator.share exists=%v", b.Hidden, hasShare)
			}
		case "qr", "copy":
			if b.Hidden || b.Tag != "button" {
				t.Errorf("%s: hidden=%v tag %s, want a shown <button>", b.Channel, b.Hidden, b.Tag)
			}
		default:
			if want := wantHrefs(l.ShortURL)[b.Channel]; b.Tag != "a" || b.Href != want || b.Hidden {
				t.Errorf("%s: <%s hidden=%v href=%q>, want <a href=%q>", b.Channel, b.Tag, b.Hidden, b.Href, want)
			}
		}
		if b.Code != l.Code && !b.Hidden {
			t.Errorf("%s: data-code %q, want %q", b.Channel, b.Code, l.Code)
		}
		if newTab := b.Channel == "whatsapp" || b.Channel == "telegram"; newTab != (b.Target == "_blank" && b.Rel == "noopener") {
			t.Errorf("%s: target %q rel %q", b.Channel, b.Target, b.Rel)
		}
		if b.Label != "" || b.Text == "" {
			t.Errorf("%s: full style wants a visible label and no aria-label; text %q, aria-label %q", b.Channel, b.Text, b.Label)
		}
	}
	if got := buttonOf(t, main, "copy").Text; got != "Copy link" {
		t.Errorf("copy button says %q", got)
	}

	fr := widgetButtons(t, ctx, "share-fr")
	if got := channelsOf(fr); !slices.Equal(got, []string{"copy", "email"}) {
		t.Errorf("French widget channels %q, want [copy email]", got)
	}
	for _, want := range []widgetButton{{Channel: "copy", Label: "Copier le lien"}, {Channel: "email", Label: "E-mail"}} {
		b := buttonOf(t, fr, want.Channel)
		if b.Label != want.Label || b.Title != want.Label || b.Text != "" {
			t.Errorf("compact French %s: aria-label %q title %q text %q, want %q and no text", b.Channel, b.Label, b.Title, b.Text, want.Label)
		}
	}
	if got, want := buttonOf(t, fr, "email").Href, wantHrefs(byChannel(t, m, "email").ShortURL)["email"]; got != want {
		t.Errorf("French email href %q, want %q", got, want)
	}
	groups := get(t, ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll(".darkshare")].map(g => g.className + "|" + g.getAttribute("role") + "|" + g.getAttribute("aria-label"))`))
	if want := []string{"darkshare darkshare--full|group|Share this page", "darkshare darkshare--compact|group|Partager cette page"}; !slices.Equal(groups, want) {
		t.Errorf("groups %q, want %q", groups, want)
	}

	// One stylesheet, first in <head>, so the site's rule overrides ours.
	css := get(t, ctx, chromedp.Evaluate[[]string](`[
		document.head.firstElementChild.outerHTML,
		String(document.querySelectorAll('link[href$="/share.css"]').length),
		getComputedStyle(document.querySelector(".darkshare")).display,
		getComputedStyle(document.querySelector(".darkshare")).columnGap]`))
	if want := []string{`<link rel="stylesheet" href="` + env.base + `/static/share.css">`, "1", "flex", "10px"}; !slices.Equal(css, want) {
		t.Errorf("stylesheet: first in head, count, display, site's gap = %q, want %q", css, want)
	}

	// Touch targets: 44px high in full style, 40px square in compact.
	sizes := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".darkshare__btn")].filter(b => !b.hidden).map(b => {
		const r = b.getBoundingClientRect(), compact = b.closest(".darkshare--compact");
		return (r.height >= (compact ? 40 : 44) && r.width >= (compact ? 40 : 44)) ? "" : b.dataset.channel + " " + r.width + "x" + r.height;
	}).filter(Boolean)`))
	if len(sizes) > 0 {
		t.Errorf("buttons too small to touch: %q", sizes)
	}

	saveScreenshot(t, ctx, "widget-desktop.png")
	run(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390px phone the article is %dpx wide: it scrolls sideways", w)
	}
	saveScreenshot(t, ctx, "widget-phone.png")
	run(t, ctx, chromedp.EmulateViewport(1280, 800))

	t.Run("qr", func(t *testing.T) {
		qr := byChannel(t, m, "qr")
		state := func() string {
			return get(t, ctx, chromedp.Evaluate[string](`(() => {
				const b = document.querySelector("#share-main .darkshare__btn--qr"), d = document.getElementById(b.getAttribute("aria-controls"));
				return [d.hidden ? "closed" : "open", b.getAttribute("aria-expanded"), d.getAttribute("role"), d.getAttribute("aria-label"),
					document.activeElement === d ? "focus:dialog" : document.activeElement === b ? "focus:button" : "focus:elsewhere"].join(" ");
			})()`))
		}
		btn := chromedp.CSS("#share-main .darkshare__btn--qr")
		if got := state(); got != "closed false dialog QR code focus:elsewhere" {
			t.Errorf("before a click: %s", got)
		}
		run(t, ctx, chromedp.Click(btn))
		if got := state(); got != "open true dialog QR code focus:dialog" {
			t.Errorf("after a click: %s", got)
		}
		img := get(t, ctx, chromedp.Poll[[]string](`(i => i.complete && i.naturalWidth > 0 && [i.getAttribute("src"), i.width + "x" + i.height, i.alt])(document.querySelector("#share-main .darkshare__qr img"))`,
			chromedp.WithPollingTimeout(5*time.Second)))
		if want := []string{qr.QRURL + "?size=256", "160x160", "QR code of the link to this page"}; !slices.Equal(img, want) {
			t.Errorf("QR image %q, want %q", img, want)
		}
		saveScreenshot(t, ctx, "widget-qr.png")
		run(t, ctx, chromedp.KeyEvent(kb.Escape))
		if got := state(); got != "closed false dialog QR code focus:button" {
			t.Errorf("after Escape: %s", got)
		}
		run(t, ctx, chromedp.Click(btn))
		if got := state(); !strings.HasPrefix(got, "open true") {
			t.Errorf("after a second click: %s", got)
		}
		run(t, ctx, chromedp.Click(btn))
		if got := state(); !strings.HasPrefix(got, "closed false") {
			t.Errorf("after a click on the open QR: %s", got)
		}
		waitCounts(t, env, qr.Code, 0, 2) // opened twice; closing is no share
	})

	// More of the same widgets share the requests already made.
	again := get(t, ctx, chromedp.Evaluate[[]int](`new Promise(done => {
		const mints = () => performance.getEntriesByType("resource").filter(e => e.name.endsWith("/api/v1/links")).length;
		const before = mints();
		window.darkshare.init();
		const d = document.createElement("div");
		d.id = "share-more";
		Object.assign(d.dataset, {darkshare: "", style: "compact", lang: "fr", channels: "copy,email"});
		document.querySelector("article").append(d);
		window.darkshare.init(d);
		const s = document.createElement("script");
		s.src = document.querySelector('script[src$="/share.js"]').src;
		s.onload = s.onerror = () => setTimeout(() => done([before, mints(), document.querySelectorAll(".darkshare").length]), 100);
		document.head.append(s);
	})`, chromedp.EvalAwaitPromise))
	if !slices.Equal(again, []int{2, 2, 3}) {
		t.Errorf("mint requests before, after a third widget like the second, widgets after a second init and a second share.js = %v, want [2 2 3]", again)
	}
	if got := waitWidgets(t, ctx, 5*time.Second); !slices.Equal(got, []string{"ready", "ready", "ready"}) {
		t.Errorf("states with the third widget: %q", got)
	}

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

func channelsOf(buttons []widgetButton) []string {
	var out []string
	for _, b := range buttons {
		out = append(out, b.Channel)
	}
	return out
}

func TestBrowserWidgetCopyCountsShares(t *testing.T) {
	env, ctx := startWithBrowser(t)
	site := startArticleSite(t, env.base, nil)
	problems := watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(site.article))
	allowClipboard(t, ctx, site.origin)
	if got := waitWidgets(t, ctx, 10*time.Second); !slices.Equal(got, []string{"ready", "ready"}) {
		t.Fatalf("widget states %q, want both ready", got)
	}
	copyLink := byChannel(t, mintOverHTTP(t, env, site.article, "copy"), "copy")

	// The copy button: the clipboard holds the copy channel's short link,
	// the button says so for two seconds, and one share is counted.
	copyText := func() string {
		return get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#share-main .darkshare__btn--copy").textContent + "|" +
			document.querySelector("#share-main [aria-live=polite]").textContent`))
	}
	run(t, ctx,
		chromedp.Click(chromedp.CSS("#share-main .darkshare__btn--copy")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#share-main .darkshare__btn--copy").textContent === "Copied"`,
			chromedp.WithPollingTimeout(2*time.Second)),
	)
	if got := readClipboard(t, ctx); got != copyLink.ShortURL {
		t.Errorf("clipboard after the copy button: %q, want %q", got, copyLink.ShortURL)
	}
	if got := copyText(); got != "Copied|Copied" {
		t.Errorf("copy button and live region say %q, want Copied|Copied", got)
	}
	visible := get(t, ctx, chromedp.Evaluate[bool](`(b => b.checkVisibility() && b.querySelector(".darkshare__label").getBoundingClientRect().width > 0)(document.querySelector("#share-main .darkshare__btn--copy"))`))
	if !visible {
		t.Error(`"Copied" is not visible`)
	}
	run(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#share-main .darkshare__btn--copy").textContent === "Copy link"`,
		chromedp.WithPollingTimeout(4*time.Second)))
	if got := copyText(); got != "Copy link|" {
		t.Errorf("two seconds on, copy button and live region say %q", got)
	}
	waitCounts(t, env, copyLink.Code, 0, 1)

	// Copy tracking: a long passage carries the copy link; a short one, a
	// code block and a form field do not.
	selected := copySelection(t, ctx, fmt.Sprintf(selectNodeJS, "#long"))
	if !strings.HasPrefix(selected, articleLong) {
		t.Fatalf("selected %q, want the long paragraph", selected)
	}
	if got, want := readClipboard(t, ctx), selected+"\n\nRead more: "+copyLink.ShortURL; got != want {
		t.Errorf("copied passage gave %q, want %q", got, want)
	}
	html := get(t, ctx, chromedp.Evaluate[string](`(async () => {
		for (const item of await navigator.clipboard.read())
			if (item.types.includes("text/html")) return (await item.getType("text/html")).text();
		return "";
	})()`, chromedp.EvalAwaitPromise))
	if want := `<p>Read more: <a href="` + copyLink.ShortURL + `">` + copyLink.ShortURL + `</a></p>`; !strings.Contains(html, want) || !strings.Contains(html, "third month running") {
		t.Errorf("copied passage as HTML: %q, want the passage and %q", html, want)
	}
	waitCounts(t, env, copyLink.Code, 0, 2)

	for _, c := range []struct{ name, selectJS, want string }{
		{"short", fmt.Sprintf(selectNodeJS, "#short"), articleShort},
		{"code", fmt.Sprintf(selectNodeJS, "#code"), articleCode},
		{"form field", `const f = document.getElementById("comment"); f.focus(); f.select(); return f.value;`, articleInput},
	} {
		copySelection(t, ctx, c.selectJS)
		if got := readClipboard(t, ctx); strings.TrimSpace(got) != c.want {
			t.Errorf("copy of the %s: clipboard %q, want it unchanged: %q", c.name, got, c.want)
		}
	}
	waitCounts(t, env, copyLink.Code, 0, 2)

	// The compact French button shows "Copié" beside its icon, for a while.
	frCopy := `document.querySelector("#share-fr .darkshare__btn--copy")`
	run(t, ctx,
		chromedp.Click(chromedp.CSS("#share-fr .darkshare__btn--copy")),
		chromedp.Poll[chromedp.Void](frCopy+`.textContent === "Copié"`, chromedp.WithPollingTimeout(2*time.Second)),
	)
	saveScreenshot(t, ctx, "widget-copied.png")
	fb := get(t, ctx, chromedp.Evaluate[[]string](`(b => [b.getAttribute("aria-label"), document.querySelector("#share-fr [aria-live=polite]").textContent,
		String(b.getBoundingClientRect().width > 60)])(`+frCopy+`)`))
	if want := []string{"Copier le lien", "Copié", "true"}; !slices.Equal(fb, want) {
		t.Errorf("French copy feedback: aria-label, live region, label shown = %q, want %q", fb, want)
	}
	if got := readClipboard(t, ctx); got != copyLink.ShortURL {
		t.Errorf("clipboard after the French copy button: %q", got)
	}
	run(t, ctx, chromedp.Poll[chromedp.Void](frCopy+`.textContent === ""`, chromedp.WithPollingTimeout(4*time.Second)))
	waitCounts(t, env, copyLink.Code, 0, 3)

	// A reader of the pasted link lands on the article, and is counted.
	run(t, ctx, chromedp.Navigate(copyLink.ShortURL))
	if got := get(t, ctx, chromedp.Location()); got != site.article {
		t.Errorf("the copy link led to %s, want %s", got, site.article)
	}
	waitWidgets(t, ctx, 10*time.Second)
	waitCounts(t, env, copyLink.Code, 1, 3)

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

// TestBrowserWidgetServiceDown serves share.js from the site itself, so the
// API it calls is the site's: one that refuses, hangs up, or never answers.
func TestBrowserWidgetServiceDown(t *testing.T) {
	ctx := newBrowser(t)
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	for _, c := range []struct {
		name     string
		api      func(stop <-chan struct{}) http.HandlerFunc
		min, max time.Duration // until the fallback
	}{
		{"refused", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such route", http.StatusNotFound) }
		}, 0, 2 * time.Second},
		{"hangs up", func(<-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }
		}, 0, 2 * time.Second},
		{"never answers", func(stop <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-stop:
				}
			}
		}, 2500 * time.Millisecond, 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			stop := make(chan struct{})
			var shares atomic.Int32
			mux := http.NewServeMux()
			for _, name := range []string{"share.js", "share.css"} {
				body, err := fs.ReadFile(static.FS, "widget/"+name)
				if err != nil {
					t.Fatal(err)
				}
				mux.HandleFunc("GET /static/"+name, func(w http.ResponseWriter, r *http.Request) {
					http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(body)))
				})
			}
			mux.HandleFunc("POST /api/v1/links", c.api(stop))
			mux.HandleFunc("POST /api/v1/shares", func(w http.ResponseWriter, r *http.Request) { shares.Add(1) })
			site := startArticleSite(t, "", mux)
			t.Cleanup(func() { close(stop) }) // before the site closes, which waits for its handlers

			problems := watchConsole(t, ctx)
			allowClipboard(t, ctx, site.origin)
			start := time.Now()
			run(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(site.article))
			got := waitWidgets(t, ctx, 6*time.Second)
			took := time.Since(start)
			if !slices.Equal(got, []string{"fallback", "fallback"}) {
				t.Fatalf("widget states %q, want fallback", got)
			}
			if took < c.min || took > c.max {
				t.Errorf("fell back after %v, want between %v and %v", took, c.min, c.max)
			}
			if h := get(t, ctx, chromedp.Text(chromedp.CSS("h1"))); h != "Savings rates rise again" {
				t.Errorf("the article did not render: h1 %q", h)
			}
			for _, id := range []string{"share-main", "share-fr"} {
				for _, b := range widgetButtons(t, ctx, id) {
					if b.Code != "" {
						t.Errorf("%s %s: data-code %q without a mint", id, b.Channel, b.Code)
					}
					if want, ok := wantHrefs(site.article)[b.Channel]; ok && b.Href != want {
						t.Errorf("%s %s: href %q, want the page URL in %q", id, b.Channel, b.Href, want)
					}
					if b.Channel == "qr" && !b.Hidden {
						t.Errorf("%s: QR button shown with no link to encode", id)
					}
				}
			}
			run(t, ctx, chromedp.Click(chromedp.CSS("#share-main .darkshare__btn--copy")))
			run(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#share-main .darkshare__btn--copy").textContent === "Copied"`,
				chromedp.WithPollingTimeout(2*time.Second)))
			if got := readClipboard(t, ctx); got != site.article {
				t.Errorf("copy button copied %q, want the page URL %q", got, site.article)
			}
			copySelection(t, ctx, fmt.Sprintf(selectNodeJS, "#long"))
			if got := readClipboard(t, ctx); strings.Contains(got, "Read more") {
				t.Errorf("copy tracking added a link it does not have: %q", got)
			}
			time.Sleep(200 * time.Millisecond) // time for a beacon that should not be sent
			if n := shares.Load(); n != 0 {
				t.Errorf("%d share beacons sent without a short link", n)
			}
			for _, p := range widgetProblems(problems()) {
				t.Errorf("browser reported: %s", p)
			}
		})
	}
}

// TestBrowserWidgetDemoPage checks the widget under the service's own strict
// CSP, loaded from its content-hashed URL.
func TestBrowserWidgetDemoPage(t *testing.T) {
	env, ctx := startWithBrowser(t)
	problems := watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(env.base+DemoPath))
	if got := waitWidgets(t, ctx, 10*time.Second); !slices.Equal(got, []string{"ready", "ready"}) {
		t.Fatalf("demo widget states %q, want both ready", got)
	}
	run(t, ctx,
		chromedp.Click(chromedp.CSS(".darkshare--full .darkshare__btn--qr")),
		chromedp.Poll[chromedp.Void](`document.querySelector(".darkshare--full .darkshare__qr img").naturalWidth > 0`,
			chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.KeyEvent(kb.Escape),
	)
	saveScreenshot(t, ctx, "widget-demo.png")
	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

// While share.css loads, the widget's buttons take their place but are
// not seen, so the site's own button styles never flash; they show, styled,
// once it has loaded.
func TestBrowserWidgetHiddenUntilStyled(t *testing.T) {
	ctx := newBrowser(t)
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	gate := make(chan struct{})
	mux := http.NewServeMux()
	for _, name := range []string{"share.js", "share.css"} {
		body, err := fs.ReadFile(static.FS, "widget/"+name)
		if err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc("GET /static/"+name, func(w http.ResponseWriter, r *http.Request) {
			if name == "share.css" {
				select { // held until the test has looked
				case <-gate:
				case <-r.Context().Done():
					return
				}
			}
			http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(body)))
		})
	}
	mux.HandleFunc("POST /api/v1/links", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	site := startArticleSite(t, "", mux)
	opened := false
	open := func() {
		if !opened {
			opened = true
			close(gate)
		}
	}
	t.Cleanup(open) // before the site closes, which waits for its handlers

	problems := watchConsole(t, ctx)
	run(t, ctx, chromedp.EmulateViewport(1280, 800))
	// The protocol's own navigation, which returns once the page is on its
	// way; chromedp.Navigate would wait for the held stylesheet.
	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: site.article}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Poll[chromedp.Void](`!!document.querySelector("#share-main .darkshare")`, chromedp.WithPollingTimeout(5*time.Second)))
	const shown = `[...document.querySelectorAll(".darkshare__btn")].filter(b => !b.hidden && getComputedStyle(b).visibility === "visible").length`
	if n := get(t, ctx, chromedp.Evaluate[int](shown)); n != 0 {
		t.Errorf("%d buttons are seen before share.css has loaded", n)
	}
	if h := get(t, ctx, chromedp.Evaluate[float64](`document.querySelector("#share-main .darkshare").getBoundingClientRect().height`)); h == 0 {
		t.Error("the hidden widget takes no room: the page will jump when it shows")
	}
	open()
	run(t, ctx, chromedp.Poll[chromedp.Void](shown+` > 0`, chromedp.WithPollingTimeout(5*time.Second)))
	// Shown with its own style: the buttons' pill shape.
	if r := get(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#share-main .darkshare__btn:not([hidden])")).borderTopLeftRadius`)); r != "999px" {
		t.Errorf("shown before share.css applied: border radius %q", r)
	}
	for _, p := range widgetProblems(problems()) {
		t.Errorf("browser reported: %s", p)
	}
}
