package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

// listFixture mints email and sms links for each url, coded by position:
// url i gets e<i> and s<i>.
func listFixture(t testing.TB, urls ...string) *store.DB {
	t.Helper()
	db := storetest.MustOpen(t)
	targets := make([]link.Target, len(urls))
	for i, u := range urls {
		targets[i] = link.Target{URL: u, Channels: []link.Channel{link.Email, link.SMS}}
	}
	create := func(u string, ch link.Channel) (link.Link, error) {
		i := slices.Index(urls, u)
		return link.Link{Code: string(ch[0]) + fmt.Sprint(i), URL: u, Channel: ch, CreatedAt: time.Unix(1700000000, 0).UTC()}, nil
	}
	if _, err := db.MintMany(context.Background(), targets, create); err != nil {
		t.Fatal(err)
	}
	return db
}

// BenchmarkList measures pages of 100k links (50k pages, two channels). A
// search that matches little scans every key, so it bounds a page's cost.
func BenchmarkList(b *testing.B) {
	const pages = 50_000
	db := storetest.MustOpen(b)
	targets := make([]link.Target, pages)
	for i := range targets {
		targets[i] = link.Target{URL: fmt.Sprintf("https://news%d.example.org/2026/11/story-about-things-%d?id=%d", i%100, i, i), Channels: []link.Channel{link.Email, link.WhatsApp}}
	}
	n := 0
	create := func(u string, ch link.Channel) (link.Link, error) {
		n++
		return link.Link{Code: fmt.Sprintf("c%d", n), URL: u, Channel: ch, StatsKey: "0123456789abcdefghijkl", CreatedAt: time.Unix(1700000000, 0).UTC()}, nil
	}
	if _, err := db.MintMany(context.Background(), targets, create); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		q    link.ListQuery
	}{
		{"first-page", link.ListQuery{}},
		{"channel", link.ListQuery{Channel: link.WhatsApp}},
		{"search-one-match", link.ListQuery{Search: "STORY-ABOUT-THINGS-49999?"}},
		{"search-no-match", link.ListQuery{Search: "nowhere"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.List(context.Background(), bb.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
