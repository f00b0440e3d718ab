package storetest

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/track"
)

// SaltStore checks the contract of track.SaltStore.
func SaltStore(t *testing.T, open Opener) {
	runAll(t, open, map[string]func(*testing.T, Opener){
		"FirstSaltWins":                    testFirstSaltWins,
		"EarlierDaysAreDeleted":            testEarlierDaysAreDeleted,
		"ConcurrentFirstSaltsAgree":        testConcurrentFirstSaltsAgree,
		"HashersOnOneStoreAgree":           testHashersOnOneStoreAgree,
		"HashersAgreeAgainAfterMidnight":   testHashersAgreeAgainAfterMidnight,
		"HasherLeavesOnlyTodaysSaltStored": testHasherLeavesOnlyTodaysSalt,
	})
}

const day = 20_000 // a day since 1970, in 2024

func salt(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }

func saltOf(t *testing.T, s Store, day int64, candidate []byte) []byte {
	t.Helper()
	got, err := s.SaltOf(ctx(t), day, candidate)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testFirstSaltWins(t *testing.T, open Opener) {
	s, other := open(t)
	if got := saltOf(t, s, day, salt(1)); !bytes.Equal(got, salt(1)) {
		t.Fatalf("first salt: %x", got)
	}
	if got := saltOf(t, other, day, salt(2)); !bytes.Equal(got, salt(1)) {
		t.Fatalf("second candidate: %x; want the first salt", got)
	}
}

func testEarlierDaysAreDeleted(t *testing.T, open Opener) {
	s, other := open(t)
	saltOf(t, s, day, salt(1))
	saltOf(t, s, day+2, salt(3))
	// A lagging instance asks for the day between: it gets a salt, and the
	// later day's is not deleted under the others' feet.
	if got := saltOf(t, other, day+1, salt(2)); !bytes.Equal(got, salt(2)) {
		t.Fatalf("day+1: %x", got)
	}
	if got := saltOf(t, s, day+2, salt(4)); !bytes.Equal(got, salt(3)) {
		t.Fatalf("day+2 after a call for day+1: %x; want its first salt, kept", got)
	}
	// Asking for day again gives a new salt: the old one was deleted.
	if got := saltOf(t, other, day, salt(5)); !bytes.Equal(got, salt(5)) {
		t.Fatalf("day, after later days: %x; want a new salt, the first one deleted", got)
	}
}

func testConcurrentFirstSaltsAgree(t *testing.T, open Opener) {
	s, other := open(t)
	got := make([][]byte, workers)
	race(t, s, other, func(i int, h Store) error {
		var err error
		got[i], err = h.SaltOf(ctx(t), day, salt(byte(i+1)))
		return err
	})
	for i := range got {
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("instance %d got salt %x, instance 0 %x", i, got[i], got[0])
		}
	}
	if got[0][0] == 0 || got[0][0] > workers || !bytes.Equal(got[0], salt(got[0][0])) {
		t.Fatalf("the salt %x is no one's candidate", got[0])
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var (
	visitor   = netip.MustParseAddr("203.0.113.7")
	visitorUA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
)

func newHasher(t *testing.T, s Store, clk *clock) *track.Hasher {
	t.Helper()
	h, err := track.NewHasher(ctx(t), s, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func visitorID(t *testing.T, h *track.Hasher, at time.Time) uint64 {
	t.Helper()
	id, ok := h.VisitorHash(at, visitor, visitorUA, "abc")
	if !ok {
		t.Fatal("no visitor hash")
	}
	return id
}

// Instances started at once hash a visitor alike from the start, so a
// visitor served by both counts once.
func testHashersOnOneStoreAgree(t *testing.T, open Opener) {
	s, other := open(t)
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	hashers := make([]*track.Hasher, workers)
	race(t, s, other, func(i int, h Store) error {
		var err error
		hashers[i], err = track.NewHasher(context.Background(), h, clk.now)
		return err
	})
	want := visitorID(t, hashers[0], clk.now())
	for i, h := range hashers {
		if got := visitorID(t, h, clk.now()); got != want {
			t.Fatalf("hasher %d gives the visitor ID %x, hasher 0 %x", i, got, want)
		}
	}
}

// Each instance makes a salt of its own at midnight; from their next
// Persist on they all hash with the one stored first.
func testHashersAgreeAgainAfterMidnight(t *testing.T, open Opener) {
	s, other := open(t)
	clk := &clock{t: time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC)}
	a, b := newHasher(t, s, clk), newHasher(t, other, clk)
	yesterday := visitorID(t, a, clk.now())
	clk.set(clk.now().Add(2 * time.Minute))
	visitorID(t, a, clk.now()) // each rotates in memory, at its first click
	visitorID(t, b, clk.now())
	for _, h := range []*track.Hasher{a, b} {
		if err := h.Persist(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	today := visitorID(t, a, clk.now())
	if got := visitorID(t, b, clk.now()); got != today {
		t.Fatalf("after midnight and a Persist, the hashers give %x and %x", today, got)
	}
	if today == yesterday {
		t.Fatal("the visitor ID did not change at midnight")
	}
	if got := visitorID(t, newHasher(t, other, clk), clk.now()); got != today {
		t.Fatal("an instance started later hashes with another salt")
	}
}

func testHasherLeavesOnlyTodaysSalt(t *testing.T, open Opener) {
	s, _ := open(t)
	clk := &clock{t: time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC)}
	h := newHasher(t, s, clk)
	monday := visitorID(t, h, clk.now())
	clk.set(clk.now().Add(2 * time.Minute))
	visitorID(t, h, clk.now())
	if err := h.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// Nothing gives Monday's ID back: a hasher for Monday makes a new salt.
	clk.set(clk.now().Add(-2 * time.Minute))
	if visitorID(t, newHasher(t, s, clk), clk.now()) == monday {
		t.Fatal("Monday's salt outlived Tuesday's first Persist")
	}
}
