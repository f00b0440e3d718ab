package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/darkshare/darkshare/pkg/stats"
)

// These tests drive the pages in a real headless Chromium: what a person
// sees, with the CSP, cookies and redirects a browser applies.

const browserTimeout = 60 * time.Second

// newBrowser returns a chromedp context for a fresh headless Chromium with its
// own profile and the extra options; the browser is closed at cleanup and
// killed after browserTimeout. It skips under -short, and when no browser is
// installed, except under CI, which must install one.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped under -short")
	}
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "no chromium, chromium-browser or google-chrome on PATH; install one with: apt-get install -y chromium"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), // before t.Cleanup below, so removed after the browser exits
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Headless Chromium names itself HeadlessChrome, which is a bot to us
		// and would not count as a click: present as the desktop browser it is.
		chromedp.UserAgent(chromeDesktop),
	)
	opts = append(opts, extra...)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	return ctx
}

// startWithBrowser returns a running server and a browser tab. It makes the
// skip decision before the server starts: a server stopped before it serves
// never stops (see startServer). The browser closes before the server stops.
func startWithBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) (*testEnv, context.Context) {
	t.Helper()
	ctx := newBrowser(t, extra...)
	env := startServer(t)
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	return env, ctx
}

// run runs browser steps and fails the test on the first error.
func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs one browser action that returns a value and fails the test on error.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// watchConsole records, from now on, the console errors, uncaught exceptions
// and error entries of the browser log of the tab; Chromium reports CSP
// violations in the last two. chromedp enables the Log domain on every tab.
func watchConsole(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, a.Description+string(a.Value))
				}
				msg = "console.error: " + strings.Join(args, " ")
			}
		case *runtime.EventExceptionThrown:
			msg = "uncaught exception: " + ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				msg += " " + e.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				msg = fmt.Sprintf("log error (%s) %s: %s", ev.Entry.Source, ev.Entry.URL, ev.Entry.Text)
			}
		}
		if msg != "" {
			mu.Lock()
			got = append(got, msg)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// mintOverHTTP mints links for target as the admin, over the real listener.
func mintOverHTTP(t *testing.T, env *testEnv, target string, channels ...string) mintResponse {
	t.Helper()
	var out mintResponse
	env.live(t, http.MethodPost, "/api/v1/links", mintRequest{URL: target, Channels: channels}, http.StatusOK, &out)
	if len(out.Links) != len(channels) {
		t.Fatalf("mint: got %d links, want %d", len(out.Links), len(channels))
	}
	for _, l := range out.Links {
		if l.StatsURL == "" {
			t.Fatalf("mint as admin: link %s has no stats_url", l.Code)
		}
	}
	return out
}

// byChannel returns the minted link of channel ch.
func byChannel(t *testing.T, m mintResponse, ch string) mintedLink {
	t.Helper()
	for _, l := range m.Links {
		if string(l.Channel) == ch {
			return l
		}
	}
	t.Fatalf("no %s link in %+v", ch, m.Links)
	return mintedLink{}
}

// clickOverHTTP follows a short link n times as a desktop browser that does
// not follow redirects, and checks each answer is a 302 to want.
func clickOverHTTP(t *testing.T, shortURL, want string, n int) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range n {
		req, err := http.NewRequest(http.MethodGet, shortURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", chromeDesktop)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Fatalf("GET %s: %d to %q, want 302 to %q", shortURL, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// artifactsDir returns the folder for screenshots, creating it.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DARKSHARE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "darkshare-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := get(t, ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func TestBrowserStatsPageWithKey(t *testing.T) {
	env, ctx := startWithBrowser(t)
	m := mintOverHTTP(t, env, "https://news.example.org/story?id=1", "email", "whatsapp")
	email, whatsapp := byChannel(t, m, "email"), byChannel(t, m, "whatsapp")
	clickOverHTTP(t, email.ShortURL, m.URL, 3)
	clickOverHTTP(t, whatsapp.ShortURL, m.URL, 1)
	env.agg.AddMany(email.Code, stats.DayOf(time.Now())-40, stats.Clicks)
	env.agg.AddMany(email.Code, stats.DayOf(time.Now())-40, stats.Clicks)

	problems := watchConsole(t, ctx)
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "de_DE"}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx,
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(email.StatsURL),
		chromedp.WaitVisible(chromedp.ID("clicks-total")),
	)
	if got := get(t, ctx, chromedp.Text(chromedp.ID("clicks-total"))); got != "3" {
		t.Errorf("#clicks-total = %q, want 3 (the whatsapp click must not count here)", got)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("a.target"))); got != m.URL {
		t.Errorf("target shown as %q, want %q", got, m.URL)
	}

	// One day per column, today's the only one with clicks: 3, drawn in
	// the channel's colour.
	drawn := get(t, ctx, chromedp.Evaluate[[]int](
		`[...document.querySelectorAll("#clicks-chart g.day")].map(g => [...g.querySelectorAll("rect.seg")].reduce((n, r) => n + +r.dataset.n, 0))`))
	if len(drawn) != 30 {
		t.Fatalf("chart has %d days, want 30", len(drawn))
	}
	for i, n := range drawn {
		if want := map[bool]int{true: 3, false: 0}[i == len(drawn)-1]; n != want {
			t.Errorf("day %d draws %d clicks, want %d", i, n, want)
		}
	}
	// The scale: gridlines labelled from 0 up to at least the busiest day.
	if ticks := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#clicks-chart .grid text")].map(t => t.textContent)`)); len(ticks) < 2 || ticks[0] != "0" || ticks[len(ticks)-1] < "3" {
		t.Errorf("the y-axis reads %q, want 0 up to at least 3", ticks)
	}
	// Two clicks 40 days ago, in the previous period: a delta and a line.
	if got := get(t, ctx, chromedp.Text(chromedp.CSS(".totals li:nth-child(3) .delta"))); !strings.HasPrefix(got, "↑ 50%") {
		t.Errorf("clicks card delta %q, want ↑ 50%% (3 against 2)", got)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS(".totals li:nth-child(1) .delta"))); !strings.HasPrefix(got, "no change") {
		t.Errorf("shares card delta %q, want no change (0 against 0)", got)
	}
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#clicks-chart polyline.prev").length`)); n != 1 {
		t.Errorf("%d lines of the previous period, want 1", n)
	}
	checkChartTooltips(t, ctx, "clicks-chart")

	if w := get(t, ctx, chromedp.Evaluate[int](`document.querySelector("img.qr").naturalWidth`)); w <= 0 {
		t.Errorf("QR image did not load: naturalWidth %d", w)
	}

	rows := get(t, ctx, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll("table.days tbody tr")].map(tr => [...tr.cells].map(td => td.textContent.trim()))`))
	// Date (in the browser's locale, German here), shares, previews,
	// clicks, unique visitors: one client clicked thrice.
	today := time.Now().UTC().Format("02.01.2006")
	if want := [][]string{{today, "0", "0", "3", "1"}}; fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("days table rows = %q, want %q", rows, want)
	}
	checkStatsExports(t, ctx)
	checkLaptopLayout(t, ctx)

	saveScreenshot(t, ctx, "stats.png")

	// Disabled: a banner says so, and no broken QR image is shown.
	env.patch(t, email.Code, `{"disabled":true}`)
	run(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("disabled-banner")))
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`)); n != 0 {
		t.Errorf("the disabled link's page shows %d images, want none (its QR code answers 410)", n)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.ID("disabled-banner"))); !strings.Contains(got, "disabled") {
		t.Errorf("banner %q", got)
	}
	saveScreenshot(t, ctx, "stats-disabled.png")
	run(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile))
	if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390px phone the page is %dpx wide: it scrolls sideways", w)
	}
	saveScreenshot(t, ctx, "stats-phone.png")

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}

	// The watcher must see what it guards against: an inline script that the
	// CSP blocks.
	before := len(problems())
	blocked := get(t, ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.createElement("script");
		s.textContent = "window.cspBroken = true";
		document.body.append(s);
		return window.cspBroken !== true;
	})()`))
	if !blocked {
		t.Error("an inline script ran: the CSP is not applied")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(problems()) == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p := problems(); len(p) == before || !strings.Contains(p[len(p)-1], "Content Security Policy") {
		t.Errorf("the blocked inline script was not reported as a CSP violation; reports: %q", p[before:])
	}
}

func TestBrowserLoginThenStats(t *testing.T) {
	env, ctx := startWithBrowser(t)
	m := mintOverHTTP(t, env, "https://news.example.org/story?id=1", "email", "whatsapp")
	email, whatsapp := byChannel(t, m, "email"), byChannel(t, m, "whatsapp")
	emailPath, whatsappPath := "/stats/"+email.Code, "/stats/"+whatsapp.Code

	location := func() *url.URL {
		t.Helper()
		u, err := url.Parse(get(t, ctx, chromedp.Location()))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	wantLoginFor := func(path string) {
		t.Helper()
		u := location()
		if !strings.Contains(u.String(), "/login?next=") || u.Query().Get("next") != path {
			t.Fatalf("at %s, want /login?next=%s", u, url.QueryEscape(path))
		}
	}
	run(t, ctx, chromedp.Navigate(env.base+emailPath))
	wantLoginFor(emailPath)

	logIn(t, ctx, "not-the-token")
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("p.error")))
	if got := get(t, ctx, chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(got, "not the admin token") {
		t.Errorf("error shown: %q", got)
	}
	if u := location(); u.Path != "/login" {
		t.Fatalf("after a wrong token at %s, want /login", u)
	}

	logIn(t, ctx, env.token)
	run(t, ctx, chromedp.WaitVisible(chromedp.ID("clicks-total")))
	if u := location(); u.Path != emailPath || u.RawQuery != "" {
		t.Fatalf("after login at %s, want %s with no key", u, emailPath)
	}

	run(t, ctx,
		chromedp.Navigate(env.base+whatsappPath),
		chromedp.WaitVisible(chromedp.ID("clicks-total")),
	)
	if u := location(); u.Path != whatsappPath {
		t.Fatalf("logged in, %s sent us to %s", whatsappPath, u)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(got, whatsapp.Code) {
		t.Errorf("h1 = %q, want the whatsapp code %s", got, whatsapp.Code)
	}

	if jar := get(t, ctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(jar, sessionCookie) {
		t.Errorf("document.cookie = %q: the session cookie must be HttpOnly", jar)
	}
	session := sessionCookieOf(t, ctx, env.base)
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax {
		t.Errorf("session cookie = %+v, want one that is HttpOnly and SameSite=Lax", session)
	}

	run(t, ctx,
		chromedp.Click(chromedp.CSS("form.logout button")),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	if u := location(); u.Path != "/login" {
		t.Errorf("after log out at %s, want /login", u)
	}
	if c := sessionCookieOf(t, ctx, env.base); c != nil {
		t.Errorf("session cookie still set after log out: %+v", c)
	}
	run(t, ctx, chromedp.Navigate(env.base+whatsappPath))
	wantLoginFor(whatsappPath)

	// From the login form itself, with no page to go back to: the dashboard.
	run(t, ctx, chromedp.Navigate(env.base+"/login"))
	logIn(t, ctx, env.token)
	run(t, ctx, chromedp.WaitVisible(chromedp.ID("clicks-total")))
	if u := location(); u.Path != "/dashboard" {
		t.Errorf("after a login from /login at %s, want /dashboard", u)
	}
}

// logIn fills in and sends the login form the browser is on, or is on its
// way to.
func logIn(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	run(t, ctx,
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS("form.login button[type=submit]")),
	)
}

// sessionCookieOf returns the browser's session cookie for base, or nil.
func sessionCookieOf(t *testing.T, ctx context.Context, base string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

func TestBrowserUnknownCodeShowsFriendlyPage(t *testing.T) {
	env, ctx := startWithBrowser(t)

	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(env.base+"/doesnotexist1"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.Status)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("main h1"))); got != "No such link" {
		t.Errorf("h1 = %q, want %q", got, "No such link")
	}
	if loc := get(t, ctx, chromedp.Location()); loc != env.base+"/doesnotexist1" {
		t.Errorf("browser went on to %s", loc)
	}
}
