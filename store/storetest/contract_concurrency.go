package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
)

// workers is how many goroutines race in each concurrency test, half on
// each handle.
const workers = 8

// race runs fn(i, store) in workers goroutines at once, alternating the
// two handles, and fails the test with the first error.
func race[S any](t *testing.T, s, other S, fn func(i int, s S) error) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, workers)
	)
	for i := range workers {
		h := s
		if i%2 == 1 {
			h = other
		}
		wg.Go(func() {
			<-start
			errs <- fn(i, h)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Instances minting the same page at once end with one code per channel,
// and each is told that code.
func testConcurrentMintsAgree(t *testing.T, open Opener) {
	s, other := open(t)
	channels := []link.Channel{link.Email, link.SMS, link.QR}
	for round := range 5 {
		url := fmt.Sprintf("https://a.org/%d", round)
		answers := make([]string, workers)
		race(t, s, other, func(i int, h Store) error {
			links, err := h.Mint(ctx(t), url, channels, randomCreator(url))
			answers[i] = codesOf(links)
			return err
		})
		stored, err := s.ByURL(ctx(t), url)
		if err != nil || len(stored) != len(channels) {
			t.Fatalf("%s: %d links stored, %v; want %d", url, len(stored), err, len(channels))
		}
		want := codesOf(stored) // channels are in Channels order, as asked
		for i, got := range answers {
			if got != want {
				t.Fatalf("%s: minter %d was told %q, the store holds %q", url, i, got, want)
			}
		}
	}
}

// Imports of overlapping pages, in opposite orders, neither deadlock nor
// make two links of one page and channel. (A store that inserted in the
// order asked would deadlock in about one round of three.)
func testConcurrentMintManysAgree(t *testing.T, open Opener) {
	s, other := open(t)
	for round := range 4 {
		const step, window = 50, 400 // each import overlaps the next seven
		var targets []link.Target
		for i := range (workers-1)*step + window {
			targets = append(targets, link.Target{URL: fmt.Sprintf("https://a.org/%d/%04d", round, i), Channels: []link.Channel{link.Email, link.SMS}})
		}
		total := make([]int, workers)
		race(t, s, other, func(i int, h Store) error {
			mine := slices.Clone(targets[i*step : i*step+window])
			if i%2 == 1 {
				slices.Reverse(mine)
			}
			var err error
			total[i], err = h.MintMany(ctx(t), mine, newLink)
			return err
		})
		created := 0
		for _, n := range total {
			created += n
		}
		if created != 2*len(targets) {
			t.Errorf("the imports say they created %d links; %d pages of 2 channels were asked", created, len(targets))
		}
		for _, target := range targets {
			if links, err := other.ByURL(ctx(t), target.URL); err != nil || len(links) != 2 {
				t.Fatalf("%s has %d links, %v; want 2", target.URL, len(links), err)
			}
		}
	}
}

// Updates of one link from every instance at once are applied one after
// the other: none is lost.
func testConcurrentUpdatesAllApply(t *testing.T, open Opener) {
	s, other := open(t)
	mustMint(t, s, "https://a.org/x", []link.Channel{link.Email}, "c1")
	race(t, s, other, func(i int, h Store) error {
		_, err := h.Update(ctx(t), "c1", func(l *link.Link) error { l.StatsKey += "+"; return nil })
		return err
	})
	l, err := other.Get(ctx(t), "c1")
	if want := "kc1" + strings.Repeat("+", workers); err != nil || l.StatsKey != want {
		t.Fatalf("after %d concurrent updates the key is %q, %v; want %q", workers, l.StatsKey, err, want)
	}
}
