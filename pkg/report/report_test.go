package report_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

var ctx = context.Background()

func newLinks(t testing.TB, db *store.DB) *link.Service {
	t.Helper()
	s, err := link.NewService(db, link.Policy{BaseURL: "https://s.test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mint(t testing.TB, links *link.Service, url string, chs ...string) []link.Link {
	t.Helper()
	_, ls, err := links.Mint(ctx, link.MintRequest{URL: url, Channels: chs, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestBuild(t *testing.T) {
	db := storetest.MustOpen(t)
	links := newLinks(t, db)
	agg := stats.NewAggregator(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a := mint(t, links, "https://news.example.org/a", "email", "sms")
	b := mint(t, links, "https://news.example.org/b", "email")
	const day = today
	add := func(code string, d stats.Day, m stats.Metric, n int) {
		for range n {
			agg.Add(code, d, m)
		}
	}
	add(a[0].Code, day, stats.Clicks, 2)
	add(a[1].Code, day-1, stats.Clicks, 1)
	add(b[0].Code, day, stats.Clicks, 4)
	add(b[0].Code, day, stats.Shares, 1)
	add(b[0].Code, day-40, stats.Clicks, 100) // outside the period
	add("unknowncode", day, stats.Clicks, 7)  // no such link: left out
	add(stats.SiteKey, day, stats.ViewPrefix+"dark-social", 1)
	add(stats.SiteKey, day, stats.ViewPrefix+"short-link", 2)
	add(stats.SiteKey, day, stats.ViewPrefix+"search", 5)
	// The same views by page: 5 on news.example.org, 3 on blog.example.com.
	add(stats.PageKey("https://news.example.org/a"), day, stats.ViewPrefix+"dark-social", 1)
	add(stats.PageKey("https://news.example.org/b"), day, stats.ViewPrefix+"search", 4)
	add(stats.PageKey("https://blog.example.com/x"), day, stats.ViewPrefix+"short-link", 2)
	add(stats.PageKey("https://blog.example.com/y"), day, stats.ViewPrefix+"search", 1)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	r, err := report.Build(ctx, agg, links, stats.Period{From: day - 6, To: day}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Clicks != 7 || r.Totals.Shares != 1 || r.LinkCount != 3 || r.PageCount != 4 {
		t.Errorf("totals %+v, %d links, %d pages", r.Totals, r.LinkCount, r.PageCount)
	}
	if len(r.Pages) != 1 || r.Pages[0].URL != "https://news.example.org/b" || len(r.Links) != 1 || r.Links[0].Link.Code != b[0].Code {
		t.Errorf("top 1: pages %+v, links %+v", r.Pages, r.Links)
	}
	if len(r.Channels) != 2 || r.Channels[0].Channel != link.Email || r.Channels[0].Clicks != 6 || r.Channels[1].Clicks != 1 {
		t.Errorf("channels %+v", r.Channels)
	}
	if len(r.ClicksPerDay) != 7 || r.ClicksPerDay[6].Total != 6 || r.ClicksPerDay[5].Channels[link.SMS] != 1 {
		t.Errorf("clicks per day %+v", r.ClicksPerDay)
	}
	if r.Views.Total != 8 || r.Views.DarkSocial != 3 || r.Views.DarkSocialShare != 0.375 {
		t.Errorf("views %+v", r.Views)
	}
	// Each host's share of its own views: 1 of 5, and 2 of 3.
	if len(r.Hosts) != 2 || r.Hosts[0].Host != "news.example.org" || r.Hosts[0].Views.Total != 5 || r.Hosts[0].Views.DarkSocial != 1 ||
		r.Hosts[1].Host != "blog.example.com" || r.Hosts[1].Views.Total != 3 || r.Hosts[1].Views.DarkSocial != 2 {
		t.Errorf("hosts %+v", r.Hosts)
	}
	if _, err := report.Build(ctx, agg, links, stats.Period{From: day, To: day - 1}, 1); !errors.Is(err, stats.ErrPeriod) {
		t.Errorf("a period out of order: %v, want ErrPeriod", err)
	}
}

// BenchmarkBuild reads a year of a site with 2,000 pages, each shared by
// email and WhatsApp, every link with counts on every day: 1.46M records,
// far more than a site of that size collects. Seeding takes a minute.
func BenchmarkBuild(b *testing.B) {
	const pages, days = 2000, 365
	db := storetest.MustOpen(b)
	links := newLinks(b, db)
	var codes []string
	for i := range pages {
		for _, l := range mint(b, links, fmt.Sprintf("https://news.example.org/story-%d", i), "email", "whatsapp") {
			codes = append(codes, l.Code)
		}
	}
	agg := stats.NewAggregator(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for d := range days {
		day := today - stats.Day(d)
		for i, code := range codes {
			agg.AddMany(code, day, stats.Clicks, stats.Shares, stats.Metric("preview:whatsapp"))
			agg.AddVisitor(code, day, uint64(i))
		}
		if err := agg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err := db.Fold(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range []int{30, 365} {
		b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
			for b.Loop() {
				r, err := report.Build(ctx, agg, links, stats.Period{From: today - stats.Day(n-1), To: today}, 20)
				if err != nil || r.LinkCount != len(codes) {
					b.Fatalf("%d links, %v", r.LinkCount, err)
				}
			}
		})
	}
}
