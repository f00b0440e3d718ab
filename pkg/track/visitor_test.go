package track_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store/storetest"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var (
	ctx     = context.Background()
	alice   = netip.MustParseAddr("203.0.113.7")
	aliceUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

func TestVisitorHashIsStableForADayAndSurvivesRestart(t *testing.T) {
	db := storetest.MustOpen(t)
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	h, err := track.NewHasher(ctx, db, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	first, ok := h.VisitorHash(clk.now(), alice, aliceUA, "abc")
	if !ok {
		t.Fatal("no hash")
	}
	if again, _ := h.VisitorHash(clk.now(), alice, aliceUA, "abc"); again != first {
		t.Fatal("same visitor, same day: different IDs")
	}
	for name, other := range map[string]func() (uint64, bool){
		"other code": func() (uint64, bool) { return h.VisitorHash(clk.now(), alice, aliceUA, "abd") },
		"other address": func() (uint64, bool) {
			return h.VisitorHash(clk.now(), netip.MustParseAddr("203.0.113.8"), aliceUA, "abc")
		},
		"other agent": func() (uint64, bool) { return h.VisitorHash(clk.now(), alice, aliceUA+" ", "abc") },
	} {
		if id, _ := other(); id == first {
			t.Errorf("%s: same ID", name)
		}
	}
	if err := h.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	clk.set(clk.now().Add(10 * time.Hour)) // restart later the same day
	restarted, err := track.NewHasher(ctx, db, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := restarted.VisitorHash(clk.now(), alice, aliceUA, "abc"); id != first {
		t.Fatal("a restart on the same day changed the visitor's ID: today's uniques would count twice")
	}
}

func TestSaltRotatesDailyAndTheOldOneIsGone(t *testing.T) {
	db := storetest.MustOpen(t)
	day1 := time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC)
	clk := &clock{t: day1}
	h, err := track.NewHasher(ctx, db, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	monday, _ := h.VisitorHash(clk.now(), alice, aliceUA, "abc")
	if err := h.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	salt1, err := db.LoadSalt(ctx, day1.Unix()/86400)
	if err != nil || len(salt1) != 16 {
		t.Fatalf("day 1 salt: %x, %v", salt1, err)
	}

	clk.set(day1.Add(2 * time.Minute)) // past midnight UTC
	tuesday, _ := h.VisitorHash(clk.now(), alice, aliceUA, "abc")
	if tuesday == monday {
		t.Fatal("the same visitor on the next day has the same ID: days would be linkable")
	}
	if again, _ := h.VisitorHash(clk.now(), alice, aliceUA, "abc"); again != tuesday {
		t.Fatal("the new day's ID is not stable")
	}
	if err := h.Persist(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadSalt(ctx, day1.Unix()/86400); err == nil {
		t.Fatal("yesterday's salt is still stored: yesterday's IDs could be recomputed")
	}
	// Nothing can give Monday's ID back: a new hasher for day 1 makes a new salt.
	clk.set(day1)
	replay, err := track.NewHasher(ctx, db, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := replay.VisitorHash(clk.now(), alice, aliceUA, "abc"); id == monday {
		t.Fatal("Monday's visitor ID was recomputed after its salt was replaced")
	}
}

func BenchmarkVisitorHash(b *testing.B) {
	h, err := track.NewHasher(ctx, storetest.MustOpen(b), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		h.VisitorHash(at, alice, aliceUA, "c7aCRHheh")
	}
}

// A click dated just before the salt's day, as a request begun before
// midnight and finished after another's rotation is, keeps the new salt
// instead of rotating back, which would split the new day's visitors.
func TestSaltNeverRotatesBack(t *testing.T) {
	midnight := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	h, err := track.NewHasher(ctx, storetest.MustOpen(t), func() time.Time { return midnight.Add(-time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	after, _ := h.VisitorHash(midnight, alice, aliceUA, "abc")
	late, _ := h.VisitorHash(midnight.Add(-time.Millisecond), alice, aliceUA, "abc")
	again, _ := h.VisitorHash(midnight.Add(time.Second), alice, aliceUA, "abc")
	if late != after || again != after {
		t.Fatalf("IDs %x, %x, %x: the salt moved back and forth at midnight", after, late, again)
	}
}
