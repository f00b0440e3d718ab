package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/storetest"
)

// seededReport mints two pages' links and sends clicks, previews and
// shares through HTTP, some flushed and some still in memory, and counts
// page views. It returns the links by name.
func seededReport(t *testing.T, env *testEnv) map[string]mintedLink {
	t.Helper()
	a := env.mint(t, `{"url":"https://news.example.org/a","channels":["email","whatsapp"]}`, env.bearer()).Links
	b := env.mint(t, `{"url":"https://news.example.org/b","channels":["sms"]}`, env.bearer()).Links
	links := map[string]mintedLink{"a-email": a[0], "a-whatsapp": a[1], "b-sms": b[0]}
	click := func(code string, n int) {
		for range n {
			env.do(t, http.MethodGet, "/"+code, "", nil)
		}
	}
	click(links["a-email"].Code, 3)
	env.do(t, http.MethodGet, "/"+links["a-whatsapp"].Code, "", header{"User-Agent": "WhatsApp/2.23.20.0 A"}) // a preview
	env.do(t, http.MethodPost, "/api/v1/shares", `{"code":"`+links["a-email"].Code+`"}`, nil)
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	click(links["a-whatsapp"].Code, 2)
	click(links["b-sms"].Code, 1) // pending
	// Page views through the landing beacon: 10 in all, 4 of them private.
	view := func(page, referrer, marker string, n int) {
		for range n {
			resp, body := env.do(t, http.MethodPost, "/api/v1/views", viewBody(page, referrer, marker, ""), beaconHeaders("198.51.100.7"))
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("view of %s: %d %s", page, resp.StatusCode, body)
			}
		}
	}
	view("https://news.example.org/a", "", links["a-email"].Code, 1)
	view("https://news.example.org/a", "https://www.google.com/", "", 1)
	view("https://news.example.org/c/story", "", links["b-sms"].Code, 2)
	view("https://news.example.org/c/story", "", "", 1) // a deep page, no referrer: dark social
	view("https://news.example.org/c/story", "https://www.google.com/", "", 3)
	view("https://news.example.org/", "", "", 2) // the home page, no referrer
	return links
}

// byID returns the text of the element with id in an HTML page.
func byID(t *testing.T, page, id string) string {
	t.Helper()
	// A URL's break opportunities split its text, not its words.
	doc, err := html.Parse(strings.NewReader(strings.ReplaceAll(page, "<wbr>", "")))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == id {
				var b strings.Builder
				for d := range n.Descendants() {
					if d.Type == html.TextNode {
						b.WriteString(d.Data + " ")
					}
				}
				return strings.Join(strings.Fields(b.String()), " ")
			}
		}
	}
	t.Fatalf("no element #%s in the page", id)
	return ""
}

func TestDashboard(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	links := seededReport(t, env)

	resp, page := env.do(t, http.MethodGet, "/dashboard?days=7", "", env.bearer())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d %s", resp.StatusCode, page)
	}
	for id, want := range map[string]string{
		"clicks-total": "6", "shares-total": "1", "previews-total": "1", "uniques-total": "3",
		"private-share": "40.0%", // (3 short-link + 1 dark social) of 10 views
	} {
		if got := byID(t, page, id); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	channels := byID(t, page, "channels")
	for _, want := range []string{"email 1 0 3 1", "sms 0 0 1 1", "whatsapp 0 1 2 1"} {
		if !strings.Contains(channels, want) {
			t.Errorf("channels table %q lacks %q", channels, want)
		}
	}
	// Page a: 5 clicks, 2 views of which 1 private; page b: 1 click, no
	// views; a page with views and no links comes after.
	if got := byID(t, page, "top-pages"); !strings.Contains(got, "https://news.example.org/a 1 1 5 2 2 50.0% https://news.example.org/b 0 0 1 1 0 – https://news.example.org/c/story 0 0 0 0 6 50.0%") {
		t.Errorf("top pages %q", got)
	}
	if got := byID(t, page, "top-links"); !strings.HasPrefix(got, "Link Channel Page Shares Previews Clicks Unique visitors "+links["a-email"].Code) {
		t.Errorf("top links %q: want the email link first", got)
	}
	for _, href := range []string{`href="/stats/` + links["b-sms"].Code + `"`, `href="/dashboard/page?url=https%3a%2f%2fnews.example.org%2fa&amp;days=7"`} {
		if !strings.Contains(page, href) {
			t.Errorf("the dashboard has no link %s in %s", href, page)
		}
	}
	if got := byID(t, page, "pasted-in"); !strings.Contains(got, "whatsapp 1") {
		t.Errorf("pasted in %q", got)
	}
	if got := byID(t, page, "clicks-per-day"); !strings.Contains(got, time.Now().UTC().Format(time.DateOnly)+" 3 1 2 6") {
		t.Errorf("clicks per day %q", got)
	}
}

func TestDashboardAccessAndPeriods(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	resp, _ := env.do(t, http.MethodGet, "/dashboard?days=30", "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fdashboard%3Fdays%3D30" {
		t.Fatalf("anonymous: %d to %q, want the login form", resp.StatusCode, resp.Header.Get("Location"))
	}
	key := env.createKey(t, `{"name":"reader","scopes":["stats:read"]}`).Key
	if resp, _ := env.do(t, http.MethodGet, "/dashboard", "", header{"Authorization": "Bearer " + key}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a stats:read key: %d, want the login form (admins only)", resp.StatusCode)
	}
	for _, q := range []string{"days=0", "days=400", "days=x", "from=2026-02-01&to=2026-01-01", "from=2026-01-01", "from=2020-01-01&to=2026-01-01"} {
		resp, page := env.do(t, http.MethodGet, "/dashboard?"+q, "", env.bearer())
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "period") {
			t.Errorf("%s: %d %s, want a 400 page about the period", q, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	today := time.Now().UTC()
	q := "from=" + today.AddDate(0, 0, -365).Format(time.DateOnly) + "&to=" + today.Format(time.DateOnly)
	if resp, page := env.do(t, http.MethodGet, "/dashboard?"+q, "", env.bearer()); resp.StatusCode != http.StatusOK || !strings.Contains(page, "No clicks in this period") {
		t.Errorf("a custom year: %d", resp.StatusCode)
	}
}

func TestPageReport(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	links := seededReport(t, env)
	resp, page := env.do(t, http.MethodGet, "/dashboard/page?days=30&url=https%3A%2F%2Fnews.example.org%2Fa", "", env.bearer())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page report: %d %s", resp.StatusCode, page)
	}
	if got := byID(t, page, "clicks-total"); got != "5" {
		t.Errorf("clicks %q, want 5", got)
	}
	if got := byID(t, page, "private-share"); got != "50.0%" {
		t.Errorf("private share %q, want 50.0%%", got)
	}
	if got := byID(t, page, "channels"); !strings.Contains(got, "email "+links["a-email"].Code+" 1 0 3 1") {
		t.Errorf("channels %q", got)
	}
	if resp, _ := env.do(t, http.MethodGet, "/dashboard/page?url=https%3A%2F%2Fnews.example.org%2Fnever", "", env.bearer()); resp.StatusCode != http.StatusOK {
		t.Errorf("a page without links: %d, want an empty report", resp.StatusCode)
	}
	if resp, _ := env.do(t, http.MethodGet, "/dashboard/page", "", env.bearer()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no url: %d", resp.StatusCode)
	}
	// A link's stats page leads the admin to its page's report, and shows
	// a holder of the link's stats key no way to the rest.
	wantHref := `href="/dashboard/page?url=https%3a%2f%2fnews.example.org%2fa"`
	if _, page := env.do(t, http.MethodGet, "/stats/"+links["a-email"].Code, "", env.bearer()); !strings.Contains(page, wantHref) {
		t.Errorf("the admin's stats page has no %s", wantHref)
	}
	if _, page := env.do(t, http.MethodGet, links["a-email"].StatsURL[len("https://s.test"):], "", nil); strings.Contains(page, "/dashboard/page") {
		t.Error("a stats-key holder's stats page links to the dashboard")
	}
}

// Exports give, for every link and day, the numbers the stats API gives.
func TestExportMatchesStats(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	links := seededReport(t, env)
	want := map[string]linkStats{}
	for _, l := range links {
		_, body := env.do(t, http.MethodGet, "/api/v1/links/"+l.Code+"/stats", "", env.bearer())
		var s linkStats
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		want[l.Code] = s
	}
	check := func(format string, r exportRow) {
		w, ok := want[r.Code]
		if !ok {
			t.Errorf("%s: a row for %q, which is no link", format, r.Code)
			return
		}
		if r.URL != w.URL || r.Channel != w.Channel || r.Clicks != w.Clicks || r.Shares != w.Shares ||
			r.Previews != w.Previews || r.Uniques != w.UniqueVisitors || r.Scanners != w.Scanners || r.Bots != w.Bots {
			t.Errorf("%s: row %+v, stats %+v", format, r, w.Breakdown)
		}
		for _, m := range []struct {
			name      string
			got, want map[string]uint64
		}{
			{"previews by app", r.PreviewsByApp, w.PreviewsByApp}, {"referrers", r.Referrers, w.Referrers},
			{"devices", r.Devices, w.Devices}, {"in-app", r.InApp, w.InApp},
		} {
			if !maps.Equal(nonZero(m.got), nonZero(m.want)) {
				t.Errorf("%s: %s of %s: %v, stats %v", format, m.name, r.Code, m.got, m.want)
			}
		}
	}

	resp, body := env.do(t, http.MethodGet, "/api/v1/admin/export?days=7&format=csv", "", env.bearer())
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(records) != 1+len(links) || strings.Join(records[0], ",") != strings.Join(exportColumns, ",") {
		t.Fatalf("csv %q, %v", records, err)
	}
	for _, col := range []string{"previews_whatsapp", "referrer_none", "referrer_messenger", "device_desktop", "device_mobile", "in_app_other"} {
		if !slices.Contains(records[0], col) {
			t.Errorf("the csv has no column %s: %q", col, records[0])
		}
	}
	for _, rec := range records[1:] {
		var r exportRow
		r.Day, r.Code, r.URL, r.Channel = rec[0], rec[1], rec[2], link.Channel(rec[3])
		nums := []*uint64{&r.Shares, &r.Previews, &r.Clicks, &r.Uniques, &r.Scanners, &r.Bots}
		for i, p := range nums {
			if err := json.Unmarshal([]byte(rec[4+i]), p); err != nil {
				t.Fatal(err)
			}
		}
		// The breakdowns are columns named prefix_class, one per class.
		r.PreviewsByApp, r.Referrers, r.Devices, r.InApp = map[string]uint64{}, map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
		for i, col := range records[0][10:] {
			n, err := strconv.ParseUint(rec[10+i], 10, 64)
			if err != nil {
				t.Fatalf("csv column %s: %v", col, err)
			}
			for prefix, m := range map[string]map[string]uint64{"previews_": r.PreviewsByApp, "referrer_": r.Referrers, "device_": r.Devices, "in_app_": r.InApp} {
				if name, ok := strings.CutPrefix(col, prefix); ok {
					m[name] = n
				}
			}
		}
		if r.Day != time.Now().UTC().Format(time.DateOnly) {
			t.Errorf("csv day %q", r.Day)
		}
		check("csv", r)
	}

	_, body = env.do(t, http.MethodGet, "/api/v1/admin/export?days=7&format=json&by=link", "", env.bearer())
	var rows []exportRow
	if err := json.Unmarshal([]byte(body), &rows); err != nil || len(rows) != len(links) {
		t.Fatalf("json by link: %v, %s", err, body)
	}
	for _, r := range rows {
		check("json", r)
	}

	_, body = env.do(t, http.MethodGet, "/api/v1/admin/export?days=7&format=ndjson", "", env.bearer())
	lines := strings.Split(body, "\n")
	if len(lines) != len(links) {
		t.Fatalf("ndjson: %d lines", len(lines))
	}
	for _, line := range lines {
		var r exportRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		check("ndjson", r)
	}
}

func TestExportRefusals(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	for _, tt := range []struct {
		query string
		h     header
		want  int
		code  string
	}{
		{"format=csv", nil, http.StatusUnauthorized, "unauthorized"},
		{"format=xml", env.bearer(), http.StatusBadRequest, "bad_request"},
		{"by=week", env.bearer(), http.StatusBadRequest, "bad_request"},
		{"days=999", env.bearer(), http.StatusBadRequest, "bad_period"},
		{"from=2026-01-02&to=2026-01-01", env.bearer(), http.StatusBadRequest, "bad_period"},
	} {
		resp, body := env.do(t, http.MethodGet, "/api/v1/admin/export?"+tt.query, "", tt.h)
		var e struct {
			Error struct{ Code, Message string }
		}
		if resp.StatusCode != tt.want || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tt.code || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d %s", tt.query, resp.StatusCode, body, tt.want, tt.code)
		}
	}
	// An empty period still names its columns.
	_, body := env.do(t, http.MethodGet, "/api/v1/admin/export?days=1", "", env.bearer())
	if body != strings.Join(exportColumns, ",") {
		t.Errorf("empty csv %q", body)
	}
}

// nonZero returns m without its zero counts, which a breakdown may or may
// not carry.
func nonZero(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, n := range m {
		if n != 0 {
			out[k] = n
		}
	}
	return out
}

// A top page whose link's target keeps a parameter the page address drops
// leads to a report that finds the link: links are found by target.
func TestTopPageLeadsToItsLinks(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	l := env.mint(t, `{"url":"https://news.example.org/a?id=5&section=world","channels":["email"]}`, env.bearer()).Links[0]
	env.agg.AddMany(l.Code, stats.DayOf(time.Now()), stats.Clicks)
	_, dash := env.do(t, http.MethodGet, "/dashboard?days=7", "", env.bearer())
	href := regexp.MustCompile(`href="(/dashboard/page\?[^"]+)"`).FindStringSubmatch(dash)
	if href == nil {
		t.Fatalf("the dashboard links to no page report: %s", dash)
	}
	resp, page := env.do(t, http.MethodGet, html.UnescapeString(href[1]), "", env.bearer())
	if resp.StatusCode != http.StatusOK || !strings.Contains(byID(t, page, "channels"), l.Code) {
		t.Errorf("the top page's report (%s): %d, channels %q; want its link %s", href[1], resp.StatusCode, byID(t, page, "channels"), l.Code)
	}
}
