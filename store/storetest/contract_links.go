package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
)

// LinkStore checks the contract of link.Store (the listing's is in
// contract_list.go).
func LinkStore(t *testing.T, open Opener) {
	runAll(t, open, map[string]func(*testing.T, Opener){
		"MintIsIdempotent":             testMintIsIdempotent,
		"MintRetriesTakenCodes":        testMintRetriesTakenCodes,
		"MintFailureLeavesNothing":     testMintFailureLeavesNothing,
		"LinkKeepsEveryField":          testLinkKeepsEveryField,
		"URLsThatAreNotUTF8":           testURLsThatAreNotUTF8,
		"ByURLKeepsPagesApart":         testByURLKeepsPagesApart,
		"MintMany":                     testMintMany,
		"MintManyIsAtomic":             testMintManyIsAtomic,
		"Update":                       testUpdate,
		"UpdateRefusesNewIdentity":     testUpdateRefusesNewIdentity,
		"Each":                         testEach,
		"ConcurrentMintsAgree":         testConcurrentMintsAgree,
		"ConcurrentMintManysAgree":     testConcurrentMintManysAgree,
		"ConcurrentUpdatesAllApply":    testConcurrentUpdatesAllApply,
		"List":                         testList,
		"ListPagesVisitEveryLinkOnce":  testListPagesVisitEveryLinkOnce,
		"ListLimitIsClamped":           testListLimitIsClamped,
		"ListRefusesBadCursors":        testListRefusesBadCursors,
		"ListCursorIsTheLastLinkShown": testListCursorIsTheLastLinkShown,
	})
}

func testMintIsIdempotent(t *testing.T, open Opener) {
	s, other := open(t)
	first := mustMint(t, s, "https://a.org/x", []link.Channel{link.Email, link.SMS}, "c1", "c2")
	again := mustMint(t, other, "https://a.org/x", []link.Channel{link.SMS, link.Email, link.QR}, "c3")
	if codesOf(first) != "c1 c2" || codesOf(again) != "c2 c1 c3" {
		t.Fatalf("first %q, again %q; want c1 c2, then c2 c1 c3", codesOf(first), codesOf(again))
	}
	// Nothing new to create: create is not called, so a failing one does no harm.
	if links, err := s.Mint(ctx(t), "https://a.org/x", []link.Channel{link.QR}, creator()); err != nil || codesOf(links) != "c3" {
		t.Fatalf("existing link: %q, %v", codesOf(links), err)
	}
	l, err := other.Get(ctx(t), "c2")
	want := link.Link{Code: "c2", URL: "https://a.org/x", Channel: link.SMS, StatsKey: "kc2", CreatedAt: created}
	if err != nil || !reflect.DeepEqual(l, want) {
		t.Fatalf("Get(c2) = %+v, %v; want %+v", l, err, want)
	}
	if _, err := s.Get(ctx(t), "nope"); !errors.Is(err, link.ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
}

func testMintRetriesTakenCodes(t *testing.T, open Opener) {
	s, other := open(t)
	mustMint(t, s, "https://a.org/1", []link.Channel{link.Email}, "dup")
	got, err := other.Mint(ctx(t), "https://a.org/2", []link.Channel{link.Email}, creator("dup", "fresh"))
	if err != nil || codesOf(got) != "fresh" {
		t.Fatalf("got %q, %v; want the second code", codesOf(got), err)
	}
	_, err = s.Mint(ctx(t), "https://a.org/3", []link.Channel{link.Email}, creator("dup", "dup", "dup", "dup", "dup"))
	if !errors.Is(err, link.ErrCodeTaken) {
		t.Fatalf("always taken: %v, want ErrCodeTaken", err)
	}
	if links, _ := s.ByURL(ctx(t), "https://a.org/3"); len(links) != 0 {
		t.Fatalf("a failed mint left %v behind", links)
	}
	if l, err := s.Get(ctx(t), "dup"); err != nil || l.URL != "https://a.org/1" {
		t.Fatalf("the taken code now points at %q, %v", l.URL, err)
	}
}

func testMintFailureLeavesNothing(t *testing.T, open Opener) {
	s, _ := open(t)
	_, err := s.Mint(ctx(t), "https://a.org/x", []link.Channel{link.Email, link.SMS}, creator("only-one"))
	if err == nil {
		t.Fatal("a mint whose create failed succeeded")
	}
	if links, _ := s.ByURL(ctx(t), "https://a.org/x"); len(links) != 0 {
		t.Fatalf("the failed mint left %q behind", codesOf(links))
	}
}

func testLinkKeepsEveryField(t *testing.T, open Opener) {
	s, other := open(t)
	want := link.Link{Code: "full", URL: "https://a.org/p?q=1", Channel: link.WhatsApp, StatsKey: "key",
		CreatedAt: created.Add(1234567 * 1000), // microseconds: what PostgreSQL keeps
		Disabled:  true, Campaign: &link.Campaign{Preset: "custom", Name: "spring", Template: "src={channel}&id={code}"}}
	_, err := s.Mint(ctx(t), want.URL, []link.Channel{want.Channel}, func(link.Channel) (link.Link, error) {
		// The store keeps the target's URL and channel, whatever create says.
		l := want
		l.URL, l.Channel = "https://elsewhere.org/", link.SMS
		return l, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []Store{s, other} {
		if got, err := h.Get(ctx(t), "full"); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Get = %+v (campaign %+v), %v; want %+v (campaign %+v)", got, got.Campaign, err, want, want.Campaign)
		}
	}
}

// A query string may hold any bytes. The store tells such URLs apart, and
// gives them back as encoding/json would, each stray byte as U+FFFD.
func testURLsThatAreNotUTF8(t *testing.T, open Opener) {
	s, _ := open(t)
	mustMint(t, s, "https://a.org/?q=\xff", []link.Channel{link.Email}, "ff")
	mustMint(t, s, "https://a.org/?q=\xfe", []link.Channel{link.Email}, "fe")
	links, err := s.ByURL(ctx(t), "https://a.org/?q=\xff")
	if err != nil || codesOf(links) != "ff" || links[0].URL != "https://a.org/?q=\uFFFD" {
		t.Fatalf("ByURL = %+v, %v; want ff with its URL as valid UTF-8", links, err)
	}
	page, err := s.List(ctx(t), link.ListQuery{Limit: 1})
	if err != nil || codesOf(page.Links) != "fe" || page.Next == "" {
		t.Fatalf("first page %q, next %q, %v; want fe, in byte order", codesOf(page.Links), page.Next, err)
	}
	page, err = s.List(ctx(t), link.ListQuery{Limit: 1, After: page.Next})
	if err != nil || codesOf(page.Links) != "ff" || page.Next != "" {
		t.Fatalf("second page %q, next %q, %v; want ff, last", codesOf(page.Links), page.Next, err)
	}
}

func testByURLKeepsPagesApart(t *testing.T, open Opener) {
	s, other := open(t)
	mustMint(t, s, "https://a.org/x", []link.Channel{link.QR, link.Email}, "q", "e")
	mustMint(t, s, "https://a.org/x2", []link.Channel{link.Email}, "other")
	links, err := other.ByURL(ctx(t), "https://a.org/x")
	if err != nil || codesOf(links) != "e q" {
		t.Fatalf("got %q, %v; want e then q (channel order), not other", codesOf(links), err)
	}
	none, err := s.ByURL(ctx(t), "https://a.org/none")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("unknown page: %v, %v; want an empty slice", none, err)
	}
}

func testMintMany(t *testing.T, open Opener) {
	s, other := open(t)
	mustMint(t, s, "https://a.org/1", []link.Channel{link.Email}, "kept")
	targets := []link.Target{
		{URL: "https://a.org/1", Channels: []link.Channel{link.Email, link.SMS}},
		{URL: "https://a.org/2", Channels: []link.Channel{link.QR}},
		{URL: "https://a.org/1", Channels: []link.Channel{link.SMS}}, // again: one link
	}
	n, err := other.MintMany(ctx(t), targets, newLink)
	if err != nil || n != 2 {
		t.Fatalf("MintMany = %d, %v; want 2 created", n, err)
	}
	one, _ := s.ByURL(ctx(t), "https://a.org/1")
	two, _ := s.ByURL(ctx(t), "https://a.org/2")
	if len(one) != 2 || one[0].Code != "kept" || len(two) != 1 || two[0].Channel != link.QR || two[0].URL != "https://a.org/2" {
		t.Fatalf("after MintMany: %+v and %+v", one, two)
	}
	if n, err := s.MintMany(ctx(t), targets, newLink); err != nil || n != 0 {
		t.Fatalf("again: %d, %v; want 0 created", n, err)
	}
}

func testMintManyIsAtomic(t *testing.T, open Opener) {
	s, _ := open(t)
	calls := 0
	failing := func(url string, ch link.Channel) (link.Link, error) {
		if calls++; calls == 3 {
			return link.Link{}, errors.New("no more codes")
		}
		return newLink(url, ch)
	}
	targets := []link.Target{{URL: "https://a.org/1", Channels: []link.Channel{link.Email, link.SMS, link.QR}}}
	if _, err := s.MintMany(ctx(t), targets, failing); err == nil {
		t.Fatal("MintMany whose create failed succeeded")
	}
	if links, _ := s.ByURL(ctx(t), "https://a.org/1"); len(links) != 0 {
		t.Fatalf("a failed MintMany left %q behind", codesOf(links))
	}
}

func testUpdate(t *testing.T, open Opener) {
	s, other := open(t)
	mustMint(t, s, "https://a.org/x", []link.Channel{link.Email}, "c1")
	campaign := &link.Campaign{Preset: "utm", Name: "autumn"}
	got, err := other.Update(ctx(t), "c1", func(l *link.Link) error {
		l.Disabled, l.Campaign, l.StatsKey = true, campaign, "rotated"
		return nil
	})
	if err != nil || !got.Disabled || got.StatsKey != "rotated" {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	if l, err := s.Get(ctx(t), "c1"); err != nil || !reflect.DeepEqual(l, got) {
		t.Fatalf("Get after Update = %+v, %v; want %+v", l, err, got)
	}
	boom := errors.New("boom")
	if _, err := s.Update(ctx(t), "c1", func(l *link.Link) error { l.Disabled = false; return boom }); !errors.Is(err, boom) {
		t.Fatalf("change's error: %v, want it returned", err)
	}
	if l, _ := s.Get(ctx(t), "c1"); !l.Disabled {
		t.Fatal("a change that failed was stored")
	}
	if _, err := s.Update(ctx(t), "nope", func(*link.Link) error { return nil }); !errors.Is(err, link.ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
}

func testUpdateRefusesNewIdentity(t *testing.T, open Opener) {
	s, _ := open(t)
	mustMint(t, s, "https://a.org/x", []link.Channel{link.Email}, "c1")
	for name, change := range map[string]func(*link.Link){
		"code":    func(l *link.Link) { l.Code = "c2" },
		"url":     func(l *link.Link) { l.URL = "https://b.org/" },
		"channel": func(l *link.Link) { l.Channel = link.SMS },
	} {
		_, err := s.Update(ctx(t), "c1", func(l *link.Link) error { change(l); l.StatsKey = "changed"; return nil })
		if err == nil {
			t.Errorf("changing the %s was accepted", name)
		}
	}
	if l, _ := s.Get(ctx(t), "c1"); l.StatsKey != "kc1" {
		t.Errorf("a refused update was stored: %+v", l)
	}
}

func testEach(t *testing.T, open Opener) {
	s, _ := open(t)
	mustMint(t, s, "https://a.org/1", []link.Channel{link.Email, link.SMS}, "a", "b")
	mustMint(t, s, "https://a.org/2", []link.Channel{link.QR}, "c")
	seen := map[string]int{}
	if err := s.Each(ctx(t), func(l link.Link) error { seen[l.Code]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "map[a:1 b:1 c:1]" {
		t.Fatalf("Each saw %v; want each link once", seen)
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Each(ctx(t), func(link.Link) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Each after fn's error: %v, %d calls; want fn's error after one call", err, calls)
	}
}
