package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/darkshare/darkshare/pkg/stats"
)

// The dashboard in a real browser, after logging in: a month of seeded
// counts over several pages and channels, the chart drawn, the tables
// carrying the same numbers, nothing blocked by the CSP, and screenshots
// saved as artifacts.
func TestBrowserDashboard(t *testing.T) {
	env, ctx := startWithBrowser(t)
	today := stats.DayOf(time.Now())
	var wantClicks uint64
	for i, chs := range [][]string{{"email", "whatsapp", "sms"}, {"email", "messenger"}, {"copy", "telegram", "qr"}} {
		m := mintOverHTTP(t, env, fmt.Sprintf("https://news.example.org/story-%d", i), chs...)
		for j, l := range m.Links {
			for d := range 30 {
				n := (i+j+d)%5 + i // some days without clicks, some busier pages
				for range n {
					env.agg.AddMany(l.Code, today-stats.Day(d), stats.Clicks, stats.Metric("ref:none"))
				}
				wantClicks += uint64(n)
				if d%3 == 0 {
					env.agg.AddMany(l.Code, today-stats.Day(d), stats.Shares, stats.Metric("preview:whatsapp"))
				}
			}
		}
	}
	for class, n := range map[string]int{"short-link": 30, "dark-social": 12, "search": 40, "social": 10, "direct-home": 8} {
		for range n {
			env.agg.AddMany(stats.SiteKey, today, stats.Metric(stats.ViewPrefix+class))
		}
	}
	// Two sites' pages: 3 of 4 views private on one, 1 of 5 on the other.
	for page, classes := range map[string][]string{
		"https://news.example.org/story-0": {"short-link", "short-link", "dark-social", "search"},
		// As the beacon keeps the address: without the parameter that does
		// not name the content, which the page's link target keeps.
		"https://b.example.com/a/very/long/path/of/a/story/that/goes/on/and/on/2024/05/index.html?id=12345": {"dark-social", "search", "search", "search", "social"},
	} {
		for _, class := range classes {
			env.agg.AddMany(stats.PageKey(page), today, stats.Metric(stats.ViewPrefix+class))
		}
	}
	longPage := mintOverHTTP(t, env, "https://b.example.com/a/very/long/path/of/a/story/that/goes/on/and/on/2024/05/index.html?id=12345&section=world", "email")
	env.agg.AddMany(longPage.Links[0].Code, today, stats.Clicks)
	wantClicks++
	// The previous 30 days: half as many clicks on one link.
	prevClicks := uint64(0)
	for d := range 30 {
		if d%2 == 0 {
			env.agg.AddMany(longPage.Links[0].Code, today-30-stats.Day(d), stats.Clicks)
			prevClicks++
		}
	}

	problems := watchConsole(t, ctx)
	run(t, ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(env.base+"/dashboard?days=30"),
	)
	logIn(t, ctx, env.token)
	run(t, ctx, chromedp.WaitVisible(chromedp.ID("clicks-total")))
	if got := get(t, ctx, chromedp.Text(chromedp.ID("clicks-total"))); got != fmt.Sprint(wantClicks) {
		t.Errorf("#clicks-total = %q, want %d", got, wantClicks)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.ID("private-share"))); got != "42.0%" {
		t.Errorf("#private-share = %q, want 42.0%% ((30 + 12) of 100)", got)
	}
	// The chart's segments add up to the cards' total.
	drawn := get(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#channel-chart rect.seg")].reduce((n, r) => n + +r.dataset.n, 0)`))
	if uint64(drawn) != wantClicks {
		t.Errorf("the chart draws %d clicks, want %d", drawn, wantClicks)
	}
	if got, want := get(t, ctx, chromedp.Text(chromedp.CSS(".totals li:nth-child(3) .delta"))), "↑ "+percentChange(wantClicks-prevClicks, prevClicks); !strings.HasPrefix(got, want) {
		t.Errorf("clicks card delta %q, want %q (%d against %d)", got, want, wantClicks, prevClicks)
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS(".totals li:nth-child(1) .delta"))); !strings.HasPrefix(got, "new") {
		t.Errorf("shares card delta %q, want new (none in the previous period)", got)
	}
	checkChartTooltips(t, ctx, "channel-chart")
	// Each site's own share of its views.
	hosts := get(t, ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll("#host-shares tbody tr")].map(tr => [...tr.cells].map(td => td.textContent))`))
	if want := [][]string{{"b.example.com", "5", "1", "20.0%"}, {"news.example.org", "4", "3", "75.0%"}}; fmt.Sprint(hosts) != fmt.Sprint(want) {
		t.Errorf("shares by site %q, want %q", hosts, want)
	}
	checkLaptopLayout(t, ctx)
	legend := get(t, ctx, chromedp.Text(chromedp.CSS("ul.legend")))
	for _, ch := range []string{"email", "sms", "whatsapp", "messenger", "telegram", "copy", "qr"} {
		if !strings.Contains(legend, ch) {
			t.Errorf("legend %q lacks %s", legend, ch)
		}
	}
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#top-pages tbody tr").length`)); n != 4 {
		t.Errorf("%d top pages, want 4", n)
	}
	saveScreenshot(t, ctx, "dashboard.png")

	// A page's report, through its link in the top pages.
	run(t, ctx,
		chromedp.Click(chromedp.CSS("#top-pages tbody tr:first-child a")),
		chromedp.WaitVisible(chromedp.CSS("#channels")),
	)
	if h := get(t, ctx, chromedp.Text(chromedp.CSS("h1"))); h != "Report of a page" {
		t.Errorf("h1 %q", h)
	}
	// Its clicks per day by channel, and where they came from, as a link's
	// page has them.
	pageClicks := get(t, ctx, chromedp.Text(chromedp.ID("clicks-total")))
	drawn = get(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#channel-chart rect.seg")].reduce((n, r) => n + +r.dataset.n, 0)`))
	if fmt.Sprint(drawn) != pageClicks {
		t.Errorf("the page's chart draws %d clicks, its card says %s", drawn, pageClicks)
	}
	for _, id := range []string{"pasted-in", "referrers", "devices", "in-app"} {
		if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#`+id+`").length`)); n != 1 {
			t.Errorf("the page report has no #%s breakdown", id)
		}
	}
	if got := get(t, ctx, chromedp.Text(chromedp.CSS("#referrers tbody tr:first-child td"))); got != "no referrer" {
		t.Errorf("the page's top referrer class is %q, want no referrer", got)
	}
	checkChartTooltips(t, ctx, "channel-chart")
	checkLaptopLayout(t, ctx)
	saveScreenshot(t, ctx, "dashboard-page.png")

	run(t, ctx,
		chromedp.Navigate(env.base+"/dashboard?days=90"),
		chromedp.WaitVisible(chromedp.ID("clicks-total")),
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile),
	)
	if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390px phone the dashboard is %dpx wide: it scrolls sideways", w)
	}
	saveScreenshot(t, ctx, "dashboard-phone.png")
	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}
