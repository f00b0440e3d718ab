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
	"sync"
	"sync/atomic"
	"syscall"
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

// flakyStore wraps the real store and fails Apply on demand, before the
// store sees the batch.
type flakyStore struct {
	stats.Store
	fail atomic.Bool
}

func (f *flakyStore) Apply(ctx context.Context, b stats.Batch) error {
	if f.fail.Load() {
		return errors.New("injected write failure")
	}
	return f.Store.Apply(ctx, b)
}

func TestFailedFlushKeepsCountsAndRetries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db := storetest.MustOpenPath(t, path)
	fs := &flakyStore{Store: db}
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
	if got := clicksByDay(t, agg, "x"); got[20001] != 2 || got[20002] != 2 {
		t.Fatalf("while failing, reads give %v, want day 1: 2 and day 2: 2", got)
	}
	fs.fail.Store(false)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if agg.Healthy() != nil || agg.Pending() != 0 {
		t.Fatalf("after recovery: healthy=%v pending=%d", agg.Healthy(), agg.Pending())
	}
	// What is on disk, read after a restart.
	db = storetest.Reopen(t, db, path)
	got := clicksByDay(t, stats.NewAggregator(db, discard), "x")
	if got[20001] != 2 || got[20002] != 2 || len(got) != 2 {
		t.Fatalf("stored %v, want day 1: 2 and day 2: 2, nothing counted twice", got)
	}
}

// A write that fails after the store committed it (an answer lost on the
// way back) is retried as it was, and the store counts it once.
func TestRetryOfACommittedWriteCountsOnce(t *testing.T) {
	db := storetest.MustOpen(t)
	ls := &lostAnswers{Store: db}
	agg := stats.NewAggregator(ls, discard)
	agg.Add("x", 20001, stats.Clicks)
	ls.lose.Store(true)
	if err := agg.Flush(ctx); err == nil {
		t.Fatal("a lost answer read as a success")
	}
	ls.lose.Store(false)
	agg.Add("x", 20001, stats.Clicks)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ls.batches) != 3 || ls.batches[0].Seq != ls.batches[1].Seq || ls.batches[2].Seq <= ls.batches[1].Seq {
		t.Fatalf("batches %+v: want the first written twice with its Seq, then a new one", ls.batches)
	}
	if got := clicksByDay(t, stats.NewAggregator(db, discard), "x"); got[20001] != 2 {
		t.Fatalf("stored %v, want 2 clicks", got)
	}
}

// lostAnswers wraps the real store: with lose set, Apply writes the batch
// and then reports a failure.
type lostAnswers struct {
	stats.Store
	lose    atomic.Bool
	batches []stats.Batch
}

func (l *lostAnswers) Apply(ctx context.Context, b stats.Batch) error {
	l.batches = append(l.batches, b)
	if err := l.Store.Apply(ctx, b); err != nil {
		return err
	}
	if l.lose.Load() {
		return errors.New("injected: the answer was lost")
	}
	return nil
}

// clicksByDay reads the clicks of every day of code from agg.
func clicksByDay(t *testing.T, agg *stats.Aggregator, code string) map[stats.Day]uint64 {
	t.Helper()
	s, err := agg.Summary(ctx, code, allDays)
	if err != nil {
		t.Fatal(err)
	}
	got := map[stats.Day]uint64{}
	for _, d := range s.Days {
		got[d.Day] += d.Counts[stats.Clicks]
	}
	return got
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
	cpu := cpuTime()
	for b.Loop() {
		for range perFlush {
			agg.RecordVisit(codes[rng.IntN(links)], day, click, rng.Uint64(), true)
		}
		if err := agg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perFlush), "ns/click")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N*perFlush), "cpu-ns/click")
}

// cpuTime returns the CPU time the process has used, in user and system
// mode: unlike the wall clock, it leaves out waits for the disk, and
// this machine's disk is noisier than its cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
// after a restart (the db at path closed and opened again) and folded.
func countsStay(t *testing.T, db *store.DB, path string, agg *stats.Aggregator, code string, want map[stats.Day]map[stats.Metric]uint64) {
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
	db = storetest.Reopen(t, db, path)
	fresh := stats.NewAggregator(db, discard)
	same("after a restart", dayCounts(t, fresh, code))
	if err := db.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	same("folded", dayCounts(t, fresh, code))
}

// An event under more counters than a tally has slots counts under each.
func TestAddManyPastTheTallySlots(t *testing.T) {
	db, path := openTemp(t)
	agg := stats.NewAggregator(db, discard)
	many := []stats.Metric{"m1", "m2", "m3", "m4", "m5", "m6"}
	agg.AddMany("c", 20000, many...)
	agg.AddMany("c", 20000, many[:2]...)
	want := map[stats.Metric]uint64{"m1": 2, "m2": 2, "m3": 1, "m4": 1, "m5": 1, "m6": 1}
	countsStay(t, db, path, agg, "c", map[stats.Day]map[stats.Metric]uint64{20000: want})
}

// Past the bound of the counter table, names are counted by name, and
// come back the same.
func TestCountersPastTheIDTable(t *testing.T) {
	defer stats.FillCounterTable()()
	db, path := openTemp(t)
	agg := stats.NewAggregator(db, discard)
	agg.AddMany("c", 20000, "past:a", "past:b", "past:a")
	agg.Add("c", 20001, "past:b")
	countsStay(t, db, path, agg, "c", map[stats.Day]map[stats.Metric]uint64{
		20000: {"past:a": 2, "past:b": 1},
		20001: {"past:b": 1},
	})
}

// A queue that fills up before a flush (a flush that hangs, say) is summed
// in place: memory then grows with link-days, not clicks, and every count
// still reads once, before and after the flush and a restart.
func TestFullQueueIsSummedInPlace(t *testing.T) {
	db, path := openTemp(t)
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
	countsStay(t, db, path, agg, "viral", map[stats.Day]map[stats.Metric]uint64{20000: want})
}

// openTemp opens a new db file in t.TempDir(), and returns it with its path.
func openTemp(t *testing.T) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.db")
	return storetest.MustOpenPath(t, path), path
}
