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
	// The chart's segments add up to the table's total, day by day.
	drawn := get(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("figure.chart svg rect")]
		.map(r => +r.querySelector("title").textContent.split(": ")[1]).reduce((a, b) => a + b, 0)`))
	if uint64(drawn) != wantClicks {
		t.Errorf("the chart draws %d clicks, want %d", drawn, wantClicks)
	}
	legend := get(t, ctx, chromedp.Text(chromedp.CSS("ul.legend")))
	for _, ch := range []string{"email", "sms", "whatsapp", "messenger", "telegram", "copy", "qr"} {
		if !strings.Contains(legend, ch) {
			t.Errorf("legend %q lacks %s", legend, ch)
		}
	}
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#top-pages tbody tr").length`)); n != 3 {
		t.Errorf("%d top pages, want 3", n)
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
