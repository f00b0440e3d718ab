package stats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/track"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

var (
	ctx     = context.Background()
	discard = slog.New(slog.NewTextHandler(io.Discard, nil))
	// allDays spans every day these tests count on.
	allDays = stats.Period{From: 19000, To: 19000 + stats.MaxPeriodDays - 1}
)

func TestDay(t *testing.T) {
	for _, tt := range []struct {
		day  stats.Day
		want string
	}{{0, "1970-01-01"}, {20420, "2025-11-28"}, {-1, "1969-12-31"}} {
		if got := tt.day.String(); got != tt.want {
			t.Errorf("Day(%d) = %s, want %s", tt.day, got, tt.want)
		}
		if back := stats.DayOf(tt.day.Time().Add(23*3600e9 + 59*60e9)); back != tt.day {
			t.Errorf("DayOf(end of %s) = %d", tt.want, back)
		}
	}
}

// Concurrent adds while flushes and reads run: every read sees each event
// exactly once (never on disk and pending both, never neither), so reads only
// grow, and the total ends exact.
func TestConcurrentAddsFlushesAndReads(t *testing.T) {
	agg := stats.NewAggregator(storetest.MustOpen(t), discard)
	const writers, perWriter = 8, 2000
	codes := []string{"aaa", "bbb", "ccc"}
	var wg sync.WaitGroup
	var done atomic.Bool
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				agg.Add(codes[(w+i)%len(codes)], stats.Day(20000+i%3), stats.Clicks)
			}
		})
	}
	var bg sync.WaitGroup
	bg.Go(func() {
		for !done.Load() {
			if err := agg.Flush(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	})
	bg.Go(func() {
		var last uint64
		for !done.Load() {
			s, err := agg.Summary(ctx, "aaa", allDays)
			if err != nil {
				t.Error(err)
				return
			}
			if n := s.Totals[stats.Clicks]; n < last {
				t.Errorf("reads went back from %d to %d", last, n)
			} else {
				last = n
			}
		}
	})
	wg.Wait()
	done.Store(true)
	bg.Wait()
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, c := range codes {
		s, err := agg.Summary(ctx, c, allDays)
		if err != nil {
			t.Fatal(err)
		}
		total += s.Totals[stats.Clicks]
		if len(s.Days) != 3 {
			t.Errorf("%s: %d days, want 3", c, len(s.Days))
		}
	}
	if total != writers*perWriter || agg.Pending() != 0 {
		t.Fatalf("total %d, pending %d; want %d and 0", total, agg.Pending(), writers*perWriter)
	}
}

type flakyStore struct {
	stats.Store
	fail atomic.Bool
}

func (f *flakyStore) AppendLog(ctx context.Context, data []byte) (uint64, error) {
	if f.fail.Load() {
		return 0, errors.New("injected write failure")
	}
	return f.Store.AppendLog(ctx, data)
}

func (f *flakyStore) Fold(ctx context.Context, m []stats.Merge, cp stats.Checkpoint, cutLog uint64) error {
	if f.fail.Load() {
		return errors.New("injected write failure")
	}
	return f.Store.Fold(ctx, m, cp, cutLog)
}

func TestFailedFlushKeepsCountsAndRetries(t *testing.T) {
	fs := &flakyStore{Store: storetest.MustOpen(t)}
	agg := stats.NewAggregator(fs, discard)
	agg.Add("x", 20001, stats.Clicks)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	agg.Add("x", 20001, stats.Clicks)
	agg.Add("x", 20002, stats.Clicks)
	fs.fail.Store(true)
	for range 3 {
		if err := agg.Flush(ctx); err == nil {
			t.Fatal("flush to a failing store succeeded")
		}
	}
	if agg.Healthy() == nil || agg.Pending() != 2 {
		t.Fatalf("after failures: healthy=%v pending=%d", agg.Healthy(), agg.Pending())
	}
	agg.Add("x", 20002, stats.Clicks)
	fs.fail.Store(false)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if agg.Healthy() != nil || agg.Pending() != 0 {
		t.Fatalf("after recovery: healthy=%v pending=%d", agg.Healthy(), agg.Pending())
	}
	// What is on disk (log and records), read by a fresh aggregator.
	fresh := stats.NewAggregator(fs.Store, discard)
	if err := fresh.Open(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := fresh.Summary(ctx, "x", allDays)
	if err != nil {
		t.Fatal(err)
	}
	got := map[stats.Day]uint64{}
	for _, d := range s.Days {
		got[d.Day] += d.Counts[stats.Clicks]
	}
	if got[20001] != 2 || got[20002] != 2 || len(got) != 2 {
		t.Fatalf("stored %v, want day 1: 2 and day 2: 2, nothing counted twice", got)
	}
}

func BenchmarkAdd(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "d.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	agg := stats.NewAggregator(db, discard)
	codes := []string{"aaaaaaaaa", "bbbbbbbbb", "ccccccccc", "ddddddddd"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			agg.Add(codes[i%len(codes)], 20000, stats.Clicks)
			// A count is queued and summed by the next flush: its cost
			// includes its share of one, as often as a second of load.
			if i++; i%(1<<16) == 0 {
				if err := agg.Flush(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
}

// BenchmarkFlushSpread is a flush at scale: a million link-days unfolded in
// memory (as after clicks spread over a million links for a while), then
// per flush 50,000 more clicks at random among them, each a human click
// with a visitor, appended to the log and merged into the unfolded counts,
// with one partition's checkpoint rewritten, as the flush loop does every
// interval. It reports the cost per click flushed.
func BenchmarkFlushSpread(b *testing.B) {
	const (
		links    = 1_000_000
		perFlush = 50_000
		day      = stats.Day(20000)
	)
	db, err := store.Open(filepath.Join(b.TempDir(), "d.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	agg := stats.NewAggregator(db, discard)
	codes := make([]string, links)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%08x", i)
	}
	click := track.Result{Class: track.Human, Referrer: track.RefWebmail}
	for i, code := range codes {
		agg.RecordVisit(code, day, click, uint64(i), true)
		if (i+1)%perFlush == 0 {
			if err := agg.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		for range perFlush {
			agg.RecordVisit(codes[rng.IntN(links)], day, click, rng.Uint64(), true)
		}
		if err := agg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perFlush), "ns/click")
}

func TestUniqueVisitorsWithinAFewPercent(t *testing.T) {
	db := storetest.MustOpen(t)
	fs := &flakyStore{Store: db}
	agg := stats.NewAggregator(fs, discard)
	const visitors = 5000
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]uint64, visitors)
	for i := range ids {
		ids[i] = rng.Uint64()
	}
	// Each visitor clicks one to three times; a third of the clicks come
	// before a failed flush, a third before a good one, a third stay pending.
	for round := range 3 {
		for i, id := range ids {
			if i%3 >= round {
				agg.AddVisitor("abc", 20000, id)
			}
		}
		switch round {
		case 0:
			fs.fail.Store(true)
			if err := agg.Flush(ctx); err == nil {
				t.Fatal("flush to a failing store succeeded")
			}
			fs.fail.Store(false)
		case 1:
			if err := agg.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := agg.Summary(ctx, "abc", allDays)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Totals[stats.Uniques]
	if diff := math.Abs(float64(got)-visitors) / visitors; diff > 0.03 {
		t.Fatalf("estimated %d unique visitors of %d: off by %.1f%%", got, visitors, 100*diff)
	}
	if len(s.Days) != 1 || s.Days[0].Counts[stats.Uniques] != got {
		t.Fatalf("days %+v", s.Days)
	}
}

// The same visitor (address and agent) clicking on two days counts once on
// each day, through the real hasher, aggregator and db, with a flush and a
// salt rotation between the days.
func TestSameVisitorOnTwoDaysCountsOncePerDay(t *testing.T) {
	db := storetest.MustOpen(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	hasher, err := track.NewHasher(ctx, db, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	agg := stats.NewAggregator(db, discard)
	ip := netip.MustParseAddr("198.51.100.9")
	const ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	human := track.Result{Class: track.Human}
	click := func() {
		id, ok := hasher.VisitorHash(now, ip, ua, "abc")
		if !ok {
			t.Fatal("no visitor hash")
		}
		agg.RecordVisit("abc", stats.DayOf(now), human, id, true)
	}
	click()
	click()
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour) // the next day: a new salt
	click()
	click()
	click()
	s, err := agg.Summary(ctx, "abc", allDays)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Days) != 2 || s.Days[0].Counts[stats.Uniques] != 1 || s.Days[1].Counts[stats.Uniques] != 1 ||
		s.Days[0].Counts[stats.Clicks] != 2 || s.Days[1].Counts[stats.Clicks] != 3 || s.Totals[stats.Uniques] != 2 {
		t.Fatalf("days %+v, totals %+v: want one visitor on each day, two in all", s.Days, s.Totals)
	}
}

func totalClicks(t *testing.T, store stats.Store, code string) uint64 {
	t.Helper()
	fresh := stats.NewAggregator(store, discard)
	if err := fresh.Open(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := fresh.Summary(ctx, code, allDays)
	if err != nil {
		t.Fatal(err)
	}
	return s.Totals[stats.Clicks]
}

// Flushed counts wait in the log until a fold. A restart before the fold
// replays them; the fold deletes them with the same transaction that writes
// the day records, so nothing counts twice.
func TestLogIsReplayedThenFoldedOnce(t *testing.T) {
	db := storetest.MustOpen(t)
	first := stats.NewAggregator(db, discard)
	if err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		first.Add("abc", 20000, stats.Clicks)
	}
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if log, _ := db.Log(ctx); len(log) != 1 {
		t.Fatalf("log after a flush: %d entries, want 1", len(log))
	}
	// "Restart": a new aggregator on the same db, the first never folded.
	second := stats.NewAggregator(db, discard)
	if err := second.Open(ctx); err != nil {
		t.Fatal(err)
	}
	second.Add("abc", 20000, stats.Clicks)
	if err := second.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := second.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if log, _ := db.Log(ctx); len(log) != 0 {
		t.Fatalf("log after a fold: %d entries, want none", len(log))
	}
	if got := totalClicks(t, db, "abc"); got != 6 {
		t.Fatalf("%d clicks after replay and fold, want 6", got)
	}
}

func TestFailedFoldKeepsCountsAndRetries(t *testing.T) {
	fs := &flakyStore{Store: storetest.MustOpen(t)}
	agg := stats.NewAggregator(fs, discard)
	if err := agg.Open(ctx); err != nil {
		t.Fatal(err)
	}
	agg.Add("abc", 20000, stats.Clicks)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fs.fail.Store(true)
	if err := agg.Fold(ctx); err == nil || agg.Healthy() == nil {
		t.Fatal("a failing fold reported no error")
	}
	if s, _ := agg.Summary(ctx, "abc", allDays); s.Totals[stats.Clicks] != 1 {
		t.Fatalf("after a failed fold the click reads as %d", s.Totals[stats.Clicks])
	}
	fs.fail.Store(false)
	if err := agg.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agg.Flush(ctx); err != nil || agg.Healthy() != nil {
		t.Fatalf("after recovery: %v, healthy %v", err, agg.Healthy())
	}
	if got := totalClicks(t, fs.Store, "abc"); got != 1 {
		t.Fatalf("%d clicks stored, want exactly 1", got)
	}
}

// Each flush checkpoints one partition; a checkpoint stands for the log
// entries before it, which are then cut. Through rounds of flushes, some of
// them failing, a restart at any point reads every click exactly once, and
// the log stays about a round long.
func TestCheckpointsCutTheLogAndCountOnce(t *testing.T) {
	db := storetest.MustOpen(t)
	fs := &flakyStore{Store: db}
	agg := stats.NewAggregator(fs, discard)
	if err := agg.Open(ctx); err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 300)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%d", i)
	}
	const flushes = 80 // two and a half rounds of 32 partitions
	stored := uint64(0)
	for i := range flushes {
		for _, c := range codes {
			agg.AddMany(c, 20000+stats.Day(i%2), stats.Clicks)
		}
		fs.fail.Store(i%7 == 3)
		if err := agg.Flush(ctx); err == nil {
			stored = uint64(i + 1)
		} else if i%7 != 3 {
			t.Fatalf("flush %d: %v", i, err)
		}
		if got := totalClicks(t, db, codes[i%len(codes)]); got != stored {
			t.Fatalf("after flush %d, a restart reads %d clicks of %s, want %d", i, got, codes[i%len(codes)], stored)
		}
	}
	if log, _ := db.Log(ctx); len(log) > 40 {
		t.Fatalf("the log holds %d entries after %d flushes; checkpoints should cut it to about 32", len(log), flushes)
	}
	if err := agg.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if log, _ := db.Log(ctx); len(log) != 0 {
		t.Fatalf("the log holds %d entries after a checkpoint of every partition", len(log))
	}
	for _, c := range codes {
		if got := totalClicks(t, db, c); got != flushes {
			t.Fatalf("%s: %d clicks after the checkpoints, want %d", c, got, flushes)
		}
	}
	if err := agg.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if cps, _ := db.Checkpoints(ctx); slices.ContainsFunc(cps, func(cp stats.Checkpoint) bool { return len(cp.Data) > 1 }) {
		t.Fatal("a checkpoint still holds counts after a fold of every partition")
	}
	if got := totalClicks(t, db, codes[7]); got != flushes {
		t.Fatalf("%d clicks after the fold, want %d", got, flushes)
	}
}

// dayCounts reads every day of code from agg.
func dayCounts(t *testing.T, agg *stats.Aggregator, code string) map[stats.Day]map[stats.Metric]uint64 {
	t.Helper()
	s, err := agg.Summary(ctx, code, allDays)
	if err != nil {
		t.Fatal(err)
	}
	got := map[stats.Day]map[stats.Metric]uint64{}
	for _, d := range s.Days {
		got[d.Day] = d.Counts
	}
	return got
}

// countsStay checks that what agg counted reads the same pending, flushed,
// after a restart and folded.
func countsStay(t *testing.T, db stats.Store, agg *stats.Aggregator, code string, want map[stats.Day]map[stats.Metric]uint64) {
	t.Helper()
	same := func(when string, got map[stats.Day]map[stats.Metric]uint64) {
		t.Helper()
		if !maps.EqualFunc(got, want, maps.Equal) {
			t.Fatalf("%s: %v, want %v", when, got, want)
		}
	}
	same("pending", dayCounts(t, agg, code))
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	same("flushed", dayCounts(t, agg, code))
	fresh := stats.NewAggregator(db, discard)
	if err := fresh.Open(ctx); err != nil {
		t.Fatal(err)
	}
	same("after a restart", dayCounts(t, fresh, code))
	if err := fresh.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	same("folded", dayCounts(t, fresh, code))
}

// An event under more counters than a tally has slots counts under each.
func TestAddManyPastTheTallySlots(t *testing.T) {
	db := storetest.MustOpen(t)
	agg := stats.NewAggregator(db, discard)
	many := []stats.Metric{"m1", "m2", "m3", "m4", "m5", "m6"}
	agg.AddMany("c", 20000, many...)
	agg.AddMany("c", 20000, many[:2]...)
	want := map[stats.Metric]uint64{"m1": 2, "m2": 2, "m3": 1, "m4": 1, "m5": 1, "m6": 1}
	countsStay(t, db, agg, "c", map[stats.Day]map[stats.Metric]uint64{20000: want})
}

// Past the bound of the counter table, names are counted by name, and
// come back the same.
func TestCountersPastTheIDTable(t *testing.T) {
	defer stats.FillCounterTable()()
	db := storetest.MustOpen(t)
	agg := stats.NewAggregator(db, discard)
	agg.AddMany("c", 20000, "past:a", "past:b", "past:a")
	agg.Add("c", 20001, "past:b")
	countsStay(t, db, agg, "c", map[stats.Day]map[stats.Metric]uint64{
		20000: {"past:a": 2, "past:b": 1},
		20001: {"past:b": 1},
	})
}

// A queue that fills up before a flush (a flush that hangs, say) is summed
// in place: memory then grows with link-days, not clicks, and every count
// still reads once, before and after the flush and a restart.
func TestFullQueueIsSummedInPlace(t *testing.T) {
	db := storetest.MustOpen(t)
	agg := stats.NewAggregator(db, discard)
	const clicks = 3*stats.MaxQueued + 5
	click := track.Result{Class: track.Human, Referrer: track.RefWebmail, Device: track.Mobile}
	for i := range clicks {
		agg.RecordVisit("viral", 20000, click, uint64(i%3)<<40, true)
	}
	agg.Add("other", 20000, stats.Clicks)
	if n := stats.QueuedEvents(agg); n >= stats.MaxQueued {
		t.Fatalf("%d events queued, want fewer than %d", n, stats.MaxQueued)
	}
	want := map[stats.Metric]uint64{stats.Clicks: clicks, "ref:webmail": clicks, "device:mobile": clicks, stats.Uniques: 3}
	countsStay(t, db, agg, "viral", map[stats.Day]map[stats.Metric]uint64{20000: want})
}
