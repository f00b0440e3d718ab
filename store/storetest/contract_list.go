package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
)

// listFixture mints email and sms links for each url, coded by position:
// url i gets e<i> and s<i>.
func listFixture(t *testing.T, open Opener, urls ...string) Store {
	t.Helper()
	s, _ := open(t)
	targets := make([]link.Target, len(urls))
	for i, u := range urls {
		targets[i] = link.Target{URL: u, Channels: []link.Channel{link.Email, link.SMS}}
	}
	create := func(u string, ch link.Channel) (link.Link, error) {
		i := slices.Index(urls, u)
		return link.Link{Code: string(ch[0]) + fmt.Sprint(i), URL: u, Channel: ch, CreatedAt: created}, nil
	}
	if _, err := s.MintMany(ctx(t), targets, create); err != nil {
		t.Fatal(err)
	}
	return s
}

func testList(t *testing.T, open Opener) {
	s := listFixture(t, open,
		"https://b.org/Story?id=1",  // 0
		"https://a.org/",            // 1
		"https://c.org/story",       // 2
		"https://d.org/?q=Ünïcode",  // 3
		"https://a.org/other-STORY", // 4
		"https://a.org/50%_off",     // 5
	)
	tests := []struct {
		name string
		q    link.ListQuery
		want string // codes in order
		next bool
	}{
		{"all, in URL then channel order", link.ListQuery{}, "e1 s1 e5 s5 e4 s4 e0 s0 e2 s2 e3 s3", false},
		{"search any case", link.ListQuery{Search: "sToRy"}, "e4 s4 e0 s0 e2 s2", false},
		{"search a query's UTF-8 in any case", link.ListQuery{Search: "üNÏ"}, "e3 s3", false},
		{"search with no match", link.ListQuery{Search: "nowhere"}, "", false},
		{"search characters that are patterns in SQL", link.ListQuery{Search: "%_"}, "e5 s5", false},
		{"search one of them", link.ListQuery{Search: "_"}, "e5 s5", false},
		{"channel", link.ListQuery{Channel: link.SMS}, "s1 s5 s4 s0 s2 s3", false},
		{"channel with no links", link.ListQuery{Channel: link.QR}, "", false},
		{"search and channel", link.ListQuery{Search: "a.org", Channel: link.Email}, "e1 e5 e4", false},
		{"limit", link.ListQuery{Limit: 3}, "e1 s1 e5", true},
		{"limit of exactly the matches: no next page", link.ListQuery{Search: "story", Limit: 6}, "e4 s4 e0 s0 e2 s2", false},
		{"limit below one is the default", link.ListQuery{Limit: -5}, "e1 s1 e5 s5 e4 s4 e0 s0 e2 s2 e3 s3", false},
	}
	for _, tt := range tests {
		page, err := s.List(ctx(t), tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := codesOf(page.Links); got != tt.want || (page.Next != "") != tt.next {
			t.Errorf("%s: List(%+v) = %q, next %q; want %q, next page %v", tt.name, tt.q, got, page.Next, tt.want, tt.next)
		}
		if page.Links == nil {
			t.Errorf("%s: Links is nil; want an empty slice", tt.name)
		}
	}
}

// Following Next from the first page visits every link once, in URL order,
// whatever the page size and filter.
func testListPagesVisitEveryLinkOnce(t *testing.T, open Opener) {
	var urls []string
	for i := range 37 {
		urls = append(urls, fmt.Sprintf("https://site%d.example/%c", i%5, 'a'+i))
	}
	s := listFixture(t, open, urls...)
	for _, q := range []link.ListQuery{
		{Limit: 1}, {Limit: 7}, {Limit: 74}, {Limit: 500},
		{Limit: 4, Channel: link.SMS}, {Limit: 3, Search: "SITE2"},
	} {
		all, err := s.List(ctx(t), link.ListQuery{Search: q.Search, Channel: q.Channel, Limit: link.MaxListLimit})
		if err != nil || all.Next != "" {
			t.Fatalf("one page of all: next %q, %v", all.Next, err)
		}
		var got []link.Link
		pages := 0
		for {
			page, err := s.List(ctx(t), q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if len(page.Links) > q.PageSize() {
				t.Fatalf("%+v: a page of %d links", q, len(page.Links))
			}
			got = append(got, page.Links...)
			pages++
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		if codesOf(got) != codesOf(all.Links) {
			t.Errorf("%+v: pages gave %q, want %q", q, codesOf(got), codesOf(all.Links))
		}
		if want := max(1, (len(all.Links)+q.PageSize()-1)/q.PageSize()); pages != want {
			t.Errorf("%+v: %d pages for %d links, want %d", q, pages, len(all.Links), want)
		}
		if !slices.IsSortedFunc(got, func(a, b link.Link) int { return strings.Compare(a.URL, b.URL) }) {
			t.Errorf("%+v: not in URL order: %q", q, codesOf(got))
		}
	}
}

func testListLimitIsClamped(t *testing.T, open Opener) {
	var urls []string
	for i := range link.MaxListLimit {
		urls = append(urls, fmt.Sprintf("https://a.example/%04d", i))
	}
	s := listFixture(t, open, urls...) // twice MaxListLimit links
	for limit, want := range map[int]int{0: link.DefaultListLimit, -1: link.DefaultListLimit, 1: 1, link.MaxListLimit + 1: link.MaxListLimit, 1 << 40: link.MaxListLimit} {
		page, err := s.List(ctx(t), link.ListQuery{Limit: limit})
		if err != nil || len(page.Links) != want || page.Next == "" {
			t.Errorf("limit %d: %d links, next %q, %v; want %d and a next page", limit, len(page.Links), page.Next, err, want)
		}
	}
}

func testListRefusesBadCursors(t *testing.T, open Opener) {
	s := listFixture(t, open, "https://a.org/")
	enc := base64.RawURLEncoding.EncodeToString
	for _, after := range []string{
		"!!!", // not base64
		base64.URLEncoding.EncodeToString([]byte("https://a.org/\x00email")), // padded
		enc([]byte("https://a.org/")),                                        // no channel
		enc([]byte("https://a.org/\x00fax")),                                 // no such channel
		enc([]byte("\x00email")),                                             // no URL
	} {
		if _, err := s.List(ctx(t), link.ListQuery{After: after}); !errors.Is(err, link.ErrBadCursor) || !errors.Is(err, link.ErrBadQuery) {
			t.Errorf("After %q: %v, want ErrBadCursor", after, err)
		}
	}
	// A well-formed cursor need not name a stored link: past every key is
	// the end, not an error.
	page, err := s.List(ctx(t), link.ListQuery{After: enc([]byte("https://z.org/\x00email"))})
	if err != nil || len(page.Links) != 0 || page.Next != "" {
		t.Errorf("after the last key: %q, next %q, %v; want an empty last page", codesOf(page.Links), page.Next, err)
	}
}

// The cursor is the same for every store, the URL and channel of the last
// link shown, so that pages asked of one instance can go on at another.
func testListCursorIsTheLastLinkShown(t *testing.T, open Opener) {
	s := listFixture(t, open, "https://a.org/1", "https://a.org/2")
	page, err := s.List(ctx(t), link.ListQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString([]byte("https://a.org/2\x00email")); page.Next != want {
		t.Fatalf("Next = %q, want %q", page.Next, want)
	}
}
