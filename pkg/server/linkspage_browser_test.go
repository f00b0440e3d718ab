package server

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The admin logs in from the links page, searches, and disables a link with
// its row's button: the row says so and the short link stops redirecting.
func TestBrowserLinksPage(t *testing.T) {
	env, ctx := startWithBrowser(t)
	story := mintOverHTTP(t, env, "https://news.example.org/story?id=7", "email", "whatsapp")
	mintOverHTTP(t, env, "https://b.example.com/other", "email")
	email := byChannel(t, story, "email")
	problems := watchConsole(t, ctx)

	run(t, ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(env.base+"/links"),
	)
	logIn(t, ctx, env.token)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("table.links")))
	if rows := linkRows(t, ctx); len(rows) != 3 {
		t.Fatalf("after login, %d rows, want every link (3): %q", len(rows), rows)
	}

	run(t, ctx,
		chromedp.SendKeys(chromedp.ID("links-q"), "STORY?ID=7"),
		chromedp.SetValue(chromedp.ID("links-channel"), "email"),
		chromedp.Click(chromedp.CSS("form.links-filter button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a.links-clear")),
	)
	if rows := linkRows(t, ctx); len(rows) != 1 || !strings.Contains(rows[0], email.ShortURL) || !strings.Contains(rows[0], "Active") {
		t.Fatalf("search for the story's email link: rows %q", rows)
	}

	run(t, ctx,
		chromedp.Click(chromedp.CSS("#link-"+email.Code+" form.toggle button")),
		chromedp.WaitVisible(chromedp.CSS("#link-"+email.Code+".is-disabled")),
	)
	u, err := url.Parse(get(t, ctx, chromedp.Location()))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/links" || u.Query().Get("q") != "STORY?ID=7" || u.Query().Get("channel") != "email" {
		t.Errorf("after disabling at %s, want the same search", u)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("#link-"+email.Code+" .status"))); got != "Disabled" {
		t.Errorf("status after disabling: %q", got)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("#link-"+email.Code+" form.toggle button"))); !strings.HasPrefix(got, "Enable") {
		t.Errorf("button after disabling: %q, want Enable", got)
	}
	if resp, _ := env.do(t, http.MethodGet, "/"+email.Code, "", nil); resp.StatusCode != http.StatusGone {
		t.Errorf("disabled link answers %d, want 410", resp.StatusCode)
	}
	saveScreenshot(t, ctx, "links.png")

	run(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390px phone the page is %dpx wide: it scrolls sideways", w)
	}
	saveScreenshot(t, ctx, "links-phone.png")
	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

// linkRows returns the text of each row of the links table.
func linkRows(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("table.links tbody tr")].map(tr => tr.textContent.replace(/\s+/g, " ").trim())`))
}

// A page on a sibling subdomain can set cookies for the whole domain. The
// admin is logged in; such a page plants a darkshare_csrf cookie with a
// form token it fetched for itself (the double-submit pair Fiber's csrf
// middleware took), and posts the links page's disable form through the
// admin's browser, which sends the admin's session (SameSite=Lax lets a
// same-site post carry it). The post is refused and the link stays
// enabled; the page's own form still works.
func TestBrowserPlantedCSRFCookieCannotDisableLinks(t *testing.T) {
	// Both names lead to 127.0.0.1: two sites of one domain.
	env, ctx := startWithBrowser(t, chromedp.Flag("host-resolver-rules", "MAP *.darkshare.test 127.0.0.1"))
	_, port, err := net.SplitHostPort(strings.TrimPrefix(env.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	app := "http://app.darkshare.test:" + port
	code := byChannel(t, mintOverHTTP(t, env, "https://news.example.org/planted", "email"), "email").Code
	redirect := func() int {
		resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil)
		return resp.StatusCode
	}

	// The attacker's server fetches a form token of its own.
	resp, err := http.Get(env.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := linksCSRFRE.FindSubmatch(page)
	if err != nil || m == nil {
		t.Fatalf("no form token on the login page: %v", err)
	}
	token := html.UnescapeString(string(m[1]))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>cute cats</title>
<form method="post" action="%s/links/%s/disabled"><input type="hidden" name="csrf" value="%s">
<input type="hidden" name="disabled" value="true"><input type="hidden" name="back" value="/links">
<button id="go" type="submit">See the cats</button></form>
<script>document.cookie = "darkshare_csrf=%s; domain=darkshare.test; path=/links";</script>`,
			app, code, html.EscapeString(token), url.QueryEscape(token))
	}))
	t.Cleanup(evil.Close)
	_, evilPort, _ := net.SplitHostPort(evil.Listener.Addr().String())

	run(t, ctx, chromedp.Navigate(app+"/links"))
	logIn(t, ctx, env.token)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("#link-"+code+" form.toggle button")))
	run(t, ctx,
		chromedp.Navigate("http://evil.darkshare.test:"+evilPort+"/"),
		chromedp.Click(chromedp.ID("go")),
		chromedp.WaitVisible(chromedp.CSS("header.top")), // a page of the service
	)
	if jar := get(t, ctx, chromedp.Evaluate[string](`document.cookie`)); !strings.Contains(jar, "darkshare_csrf=") {
		t.Fatalf("the planted cookie did not reach the service's pages (document.cookie %q): the test proves nothing", jar)
	}
	if got := redirect(); got != http.StatusFound {
		t.Fatalf("the planted cookie and token disabled the link: it answers %d", got)
	}
	if h1 := get(t, ctx, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h1, "Forbidden") {
		t.Errorf("the forged post got a page titled %q, want Forbidden", h1)
	}

	run(t, ctx,
		chromedp.Navigate(app+"/links"),
		chromedp.Click(chromedp.CSS("#link-"+code+" form.toggle button")),
		chromedp.WaitVisible(chromedp.CSS("#link-"+code+".is-disabled")),
	)
	if got := redirect(); got != http.StatusGone {
		t.Fatalf("the page's own form did not disable the link: %d", got)
	}
}

// The links page's tools, as the admin uses them: create a page's links,
// copy a short link, sort by clicks, and disable a search's links after
// confirming; quiet rows, and short links on one line.
func TestBrowserLinksPageTools(t *testing.T) {
	env, ctx := startWithBrowser(t)
	for i := range 3 {
		mintOverHTTP(t, env, fmt.Sprintf("https://news.example.org/2024/05/a-long-section-name/story-%d?id=%d", i, i), "email", "sms")
	}
	other := mintOverHTTP(t, env, "https://b.example.com/other", "email", "whatsapp")
	busy := byChannel(t, other, "whatsapp")
	clickOverHTTP(t, busy.ShortURL, other.URL, 4)
	problems := watchConsole(t, ctx)
	allowClipboard(t, ctx, env.base)

	run(t, ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(env.base+"/links"))
	logIn(t, ctx, env.token)
	// Login from the links page comes back to it.
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("table.links")))

	// Create: the form mints the ticked channels and shows them.
	run(t, ctx,
		chromedp.Click(chromedp.CSS("details.create summary")),
		chromedp.SendKeys(chromedp.ID("create-url"), "https://b.example.com/new-story"),
		chromedp.Click(chromedp.CSS(`.links-create input[value="sms"]`)), // untick two
		chromedp.Click(chromedp.CSS(`.links-create input[value="qr"]`)),
		chromedp.Click(chromedp.CSS(".links-create button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a.links-clear")),
	)
	if rows := linkRows(t, ctx); len(rows) != 6 || strings.Contains(strings.Join(rows, "\n"), " sms ") {
		t.Errorf("after creating links for every channel but sms and qr: rows %q", rows)
	}

	// Copy: the button puts the row's short link on the clipboard.
	run(t, ctx, chromedp.Navigate(env.base+"/links?sort=clicks"), chromedp.WaitVisible(chromedp.CSS("table.links")))
	first := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("table.links tbody tr").id`))
	if first != "link-"+busy.Code {
		t.Errorf("most clicks first: the first row is %s, want link-%s", first, busy.Code)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("#link-"+busy.Code+" td.clicks"))); got != "4" {
		t.Errorf("clicks column of the busy link: %q, want 4", got)
	}
	run(t, ctx,
		chromedp.Click(chromedp.CSS("#link-"+busy.Code+" button.copy")),
		chromedp.WaitVisible(chromedp.CSS("#link-"+busy.Code+" button.copy")),
	)
	if got := readClipboard(t, ctx); got != busy.ShortURL {
		t.Errorf("clipboard after Copy: %q, want %q", got, busy.ShortURL)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("#link-"+busy.Code+" button.copy"))); !strings.HasPrefix(got, "Copied") {
		t.Errorf("the copy button says %q, want Copied", got)
	}
	// One line per short link, and no red button on the rows.
	if n := get(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("table.links code.short")].filter(c => c.getClientRects().length !== 1 || c.getBoundingClientRect().height > 30).length`)); n != 0 {
		t.Errorf("%d short links wrap", n)
	}
	if red := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.links button")].map(b => getComputedStyle(b).backgroundColor).filter(c => c === "rgb(166, 27, 27)")`)); len(red) != 0 {
		t.Errorf("%d red buttons on the rows", len(red))
	}
	checkLaptopLayout(t, ctx)
	saveScreenshot(t, ctx, "links-tools.png")

	// Bulk disable of a search: asked first, then exactly its links.
	run(t, ctx,
		chromedp.Navigate(env.base+"/links?q=a-long-section-name&channel=email"),
		chromedp.Click(chromedp.CSS("form.links-bulk button")),
		chromedp.WaitVisible(chromedp.ID("bulk-count")),
	)
	if got := get(t, ctx, chromedp.Text(chromedp.ID("bulk-count"))); !strings.HasPrefix(got, "Disable 3 active links") {
		t.Errorf("confirmation: %q", got)
	}
	saveScreenshot(t, ctx, "links-bulk-confirm.png")
	run(t, ctx,
		chromedp.Click(chromedp.CSS("form.bulk-confirm button")),
		chromedp.WaitVisible(chromedp.CSS("table.links")),
	)
	status := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.links tbody .status")].map(td => td.textContent)`))
	if fmt.Sprint(status) != "[Disabled Disabled Disabled]" {
		t.Errorf("after the bulk disable the search's links are %q", status)
	}
	if resp, _ := env.do(t, http.MethodGet, "/"+busy.Code, "", nil); resp.StatusCode != http.StatusFound {
		t.Errorf("a link outside the search answers %d, want 302", resp.StatusCode)
	}
	run(t, ctx, chromedp.Navigate(env.base+"/links?q=a-long-section-name&channel=sms"), chromedp.WaitVisible(chromedp.CSS("table.links")))
	if rows := linkRows(t, ctx); len(rows) != 3 || strings.Contains(strings.Join(rows, ""), "Disabled") {
		t.Errorf("the sms links of the same pages were touched: %q", rows)
	}
	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}
