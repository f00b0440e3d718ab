package server

import (
	"context"
	"net/http"
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
