package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
)

// CountsOpener returns two handles on one fresh, empty database, as two
// instances of darkshare would hold, both closed at cleanup. A store that
// lets one process hold a database (bbolt) returns the same handle twice.
type CountsOpener func(t *testing.T) (stats.Store, stats.Store)

// Counts checks the contract of stats.Store, in parallel subtests.
func Counts(t *testing.T, open CountsOpener) {
	tests := map[string]func(*testing.T, CountsOpener){
		"AppliedCountsReadBack":        testAppliedCountsReadBack,
		"RetriedBatchCountsOnce":       testRetriedBatchCountsOnce,
		"ConcurrentWritersSumExactly":  testConcurrentWritersSumExactly,
		"ConcurrentSketchesLoseNone":   testConcurrentSketchesLoseNoVisitor,
		"SketchesMergeAcrossWriters":   testSketchesMergeAcrossWriters,
		"ScanOrderAndContents":         testScanOrderAndContents,
		"ScanStopsAtFnsError":          testScanStopsAtFnsError,
		"CancelledApplyCountsOnceOnly": testCancelledApplyCountsOnceOnly,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open)
		})
	}
}

const countsDay stats.Day = 20_000

// oddKeys are keys whose order differs between bytewise comparison and
// most collations, or that a text column would refuse (a NUL byte,
// invalid UTF-8): a store takes any key and orders keys bytewise.
var oddKeys = []string{"", "\x00", "a\x00", "B", "a", "ab", "a-b", "~", "~https://a.org/ü", "\xff\xfe", "Z"}

// vid spreads small numbers over 64 bits, as visitor hashes are.
func vid(i int) uint64 { return uint64(i+1) * 0x9E3779B97F4A7C15 }

// model is what the store should hold: every delta applied, added up.
type model map[stats.DayKey]*stats.Record

func (m model) add(t *testing.T, deltas []stats.Delta) {
	t.Helper()
	for i := range deltas {
		r := m[deltas[i].DayKey]
		if r == nil {
			r = &stats.Record{}
			m[deltas[i].DayKey] = r
		}
		if err := deltas[i].AddTo(r); err != nil {
			t.Fatal(err)
		}
	}
}

// counts returns r's counters with Uniques, as a scan gives them.
func counts(r *stats.Record) map[stats.Metric]uint64 {
	c := maps.Clone(r.Counts)
	if c == nil {
		c = map[stats.Metric]uint64{}
	}
	if r.Visitors != nil {
		c[stats.Uniques] = r.Visitors.Estimate()
	}
	return c
}

// newBatch sorts deltas as an aggregator does, and makes them a batch.
func newBatch(writer, seq uint64, deltas ...stats.Delta) stats.Batch {
	slices.SortFunc(deltas, func(x, y stats.Delta) int { return x.DayKey.Compare(y.DayKey) })
	return stats.Batch{Writer: writer, Seq: seq, Deltas: deltas}
}

// newDelta returns a delta of key on day with n of each metric, in the
// order given, and the visitors vid(i) for i in visitors.
func newDelta(key string, day stats.Day, n uint64, metrics []stats.Metric, visitors ...int) stats.Delta {
	d := stats.Delta{DayKey: stats.DayKey{Code: key, Day: day}}
	for _, m := range metrics {
		d.Add(m, n)
	}
	for _, v := range visitors {
		d.AddVisitor(vid(v))
	}
	return d
}

func apply(t *testing.T, s stats.Store, b stats.Batch) {
	t.Helper()
	if err := s.Apply(ctx(t), b); err != nil {
		t.Fatal(err)
	}
}

func records(t *testing.T, s stats.Store, key string, p stats.Period) []stats.DayRecord {
	t.Helper()
	recs, err := s.Records(ctx(t), key, p)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkRecords compares s's records of every key of m with m's, over p.
func checkRecords(t *testing.T, s stats.Store, m model, p stats.Period) {
	t.Helper()
	keys := map[string]bool{}
	for k := range m {
		keys[k.Code] = true
	}
	for key := range keys {
		var want []stats.DayRecord
		for k, r := range m {
			if k.Code == key && p.Contains(k.Day) {
				want = append(want, stats.DayRecord{Day: k.Day, Record: *r})
			}
		}
		slices.SortFunc(want, func(x, y stats.DayRecord) int { return int(x.Day - y.Day) })
		got := records(t, s, key, p)
		if len(got) != len(want) {
			t.Fatalf("Records(%q, %v) gave %d days, want %d: %v", key, p, len(got), len(want), got)
		}
		for i := range got {
			if got[i].Day != want[i].Day || !maps.Equal(counts(&got[i].Record), counts(&want[i].Record)) {
				t.Fatalf("Records(%q) day %d: %s %v; want %s %v", key, i, got[i].Day, counts(&got[i].Record), want[i].Day, counts(&want[i].Record))
			}
			if got[i].Counts == nil {
				t.Fatalf("Records(%q) on %s: nil Counts", key, got[i].Day)
			}
		}
	}
}

var (
	clicksShares = []stats.Metric{stats.Clicks, stats.Shares}
	// manyMetrics are more counters than a delta keeps in place.
	manyMetrics = []stats.Metric{stats.Clicks, "previews", "bots", "scanners", "view:direct-home", "view:short-link"}
)

// Batches add up per key and day, counters and visitors, keys and days
// kept apart (a key that is a prefix of another included), and read back
// exactly, whole or in part.
func testAppliedCountsReadBack(t *testing.T, open CountsOpener) {
	s, other := open(t)
	m := model{}
	var first, second []stats.Delta
	for i, key := range oddKeys {
		first = append(first, newDelta(key, countsDay, uint64(i+1), clicksShares, i, i+1))
		first = append(first, newDelta(key, countsDay+2, 1, manyMetrics))
		second = append(second, newDelta(key, countsDay, 10, []stats.Metric{stats.Clicks}, i+1, i+2, i+3))
		if i%2 == 0 {
			second = append(second, newDelta(key, countsDay+1, 3, nil, 100, 101)) // visitors alone
		}
	}
	for seq, deltas := range [][]stats.Delta{first, second} {
		b := newBatch(1, uint64(seq+1), deltas...)
		m.add(t, b.Deltas)
		apply(t, s, b)
	}
	checkRecords(t, other, m, stats.Period{From: countsDay - 10, To: countsDay + 10})
	checkRecords(t, other, m, stats.Period{From: countsDay + 1, To: countsDay + 1})
	if recs := records(t, other, "no such key", stats.Period{From: countsDay, To: countsDay + 2}); len(recs) != 0 {
		t.Fatalf("a key never counted has records: %v", recs)
	}
	if recs := records(t, other, "a", stats.Period{From: countsDay + 3, To: countsDay + 9}); len(recs) != 0 {
		t.Fatalf("a period without counts has records: %v", recs)
	}
}

// A batch of a Writer and Seq already applied does not count again,
// whichever instance applied it; nor does an older one of its Writer. The
// same Seq of another Writer counts.
func testRetriedBatchCountsOnce(t *testing.T, open CountsOpener) {
	s, other := open(t)
	day := stats.Period{From: countsDay, To: countsDay}
	clicks := func() uint64 {
		t.Helper()
		recs := records(t, s, "c1", day)
		if len(recs) == 0 {
			return 0
		}
		return recs[0].Counts[stats.Clicks]
	}
	click := func(writer, seq uint64, n uint64) stats.Batch {
		return newBatch(writer, seq, newDelta("c1", countsDay, n, []stats.Metric{stats.Clicks}))
	}
	steps := []struct {
		what  string
		h     stats.Store
		b     stats.Batch
		total uint64
	}{
		{"writer 1, seq 2", s, click(1, 2, 1), 1},
		{"the same batch again", s, click(1, 2, 1), 1},
		{"the same batch on the other instance", other, click(1, 2, 1), 1},
		{"an older batch of writer 1", other, click(1, 1, 10), 1},
		{"writer 2, seq 2", other, click(2, 2, 100), 101},
		{"writer 1, seq 3", s, click(1, 3, 1000), 1101},
		{"writer 1, seq 3 again", other, click(1, 3, 1000), 1101},
	}
	for _, step := range steps {
		apply(t, step.h, step.b)
		if got := clicks(); got != step.total {
			t.Fatalf("after %s: %d clicks, want %d", step.what, got, step.total)
		}
	}
}

// Writers on both instances applying batches over the same link-days at
// once, with their counters in different orders, neither deadlock nor
// lose a count: counters sum exactly, and the sketches hold every
// writer's visitors. Each round adds to one day's rows that exist, and
// creates the rows of a new day, which every writer races to create. Of
// the keys, a third have counters and visitors, a third counters only,
// a third visitors only (whose sketches no counter's row guards).
func testConcurrentWritersSumExactly(t *testing.T, open CountsOpener) {
	s, other := open(t)
	const (
		rounds   = 6
		keys     = 60
		visitors = 25 // per writer, round, day and visited key
	)
	hasCounters := func(k int) bool { return k%3 != 2 }
	hasVisitors := func(k int) bool { return k%3 != 1 }
	race(t, s, other, func(w int, h stats.Store) error {
		metrics := clicksShares
		if w%2 == 1 {
			metrics = []stats.Metric{stats.Shares, stats.Clicks}
		}
		seq := uint64(0)
		for r := range rounds {
			// Two batches: a writer waiting for another's counter rows
			// would not race it on the sketches after them.
			var mixed, visitorsOnly []stats.Delta
			for k := range keys {
				for i, day := range []stats.Day{countsDay, countsDay + 1 + stats.Day(r)} {
					var (
						ms []stats.Metric
						vs []int
					)
					if hasCounters(k) {
						ms = metrics
					}
					for v := 0; hasVisitors(k) && v < visitors; v++ {
						vs = append(vs, (((w*rounds+r)*2+i)*visitors+v)*keys+k)
					}
					d := newDelta(fmt.Sprintf("k%02d", k), day, 1, ms, vs...)
					if hasCounters(k) {
						mixed = append(mixed, d)
					} else {
						visitorsOnly = append(visitorsOnly, d)
					}
				}
			}
			for _, deltas := range [][]stats.Delta{mixed, visitorsOnly} {
				seq++
				if err := h.Apply(context.Background(), newBatch(uint64(w+1), seq, deltas...)); err != nil {
					return fmt.Errorf("writer %d, batch %d: %w", w, seq, err)
				}
			}
		}
		return nil
	})
	for k := range keys {
		recs := records(t, other, fmt.Sprintf("k%02d", k), stats.Period{From: countsDay, To: countsDay + rounds})
		if len(recs) != rounds+1 {
			t.Fatalf("k%02d: %d days, want %d", k, len(recs), rounds+1)
		}
		for _, r := range recs {
			batches := workers // on a day of its own round
			if r.Day == countsDay {
				batches = workers * rounds
			}
			if n := uint64(batches); hasCounters(k) && (r.Counts[stats.Clicks] != n || r.Counts[stats.Shares] != n) {
				t.Fatalf("k%02d on %s: %v; want %d clicks and shares", k, r.Day, r.Counts, batches)
			}
			switch {
			case !hasVisitors(k) && r.Visitors != nil:
				t.Fatalf("k%02d on %s: a sketch, and no visitors", k, r.Day)
			case !hasVisitors(k):
			case r.Visitors == nil:
				t.Fatalf("k%02d on %s: no sketch", k, r.Day)
			default:
				checkEstimate(t, fmt.Sprintf("k%02d on %s", k, r.Day), r.Visitors.Estimate(), batches*visitors)
			}
		}
	}
}

// Writers on both instances adding visitors alone (no counter rows to
// wait on) to the same link-days at once lose none of them: each sketch is
// read, merged and written back by one writer at a time, the first one
// included. Each round, all writers start together, on a day they share
// with the other rounds and on a new one.
func testConcurrentSketchesLoseNoVisitor(t *testing.T, open CountsOpener) {
	s, other := open(t)
	const (
		rounds   = 12
		keys     = 4
		visitors = 10 // per writer, round, day and key
	)
	for r := range rounds {
		race(t, s, other, func(w int, h stats.Store) error {
			var deltas []stats.Delta
			for k := range keys {
				for i, day := range []stats.Day{countsDay, countsDay + 1 + stats.Day(r)} {
					var vs []int
					for v := range visitors {
						vs = append(vs, (((w*rounds+r)*2+i)*visitors+v)*keys+k)
					}
					deltas = append(deltas, newDelta(fmt.Sprintf("k%d", k), day, 0, nil, vs...))
				}
			}
			if err := h.Apply(context.Background(), newBatch(uint64(w+1), uint64(r+1), deltas...)); err != nil {
				return fmt.Errorf("writer %d, round %d: %w", w, r, err)
			}
			return nil
		})
	}
	for k := range keys {
		recs := records(t, other, fmt.Sprintf("k%d", k), stats.Period{From: countsDay, To: countsDay + rounds})
		if len(recs) != rounds+1 {
			t.Fatalf("k%d: %d days, want %d", k, len(recs), rounds+1)
		}
		for _, r := range recs {
			exact := workers * visitors
			if r.Day == countsDay {
				exact *= rounds
			}
			if r.Visitors == nil {
				t.Fatalf("k%d on %s: no sketch", k, r.Day)
			}
			checkEstimate(t, fmt.Sprintf("k%d on %s", k, r.Day), r.Visitors.Estimate(), exact)
		}
	}
}

// checkEstimate fails unless a sketch's estimate is within 3% of exact,
// about 4 standard errors of a sketch of precision 14.
func checkEstimate(t *testing.T, what string, got uint64, exact int) {
	t.Helper()
	if d := float64(got) - float64(exact); d > 0.03*float64(exact) || d < -0.03*float64(exact) {
		t.Fatalf("%s: %d unique visitors estimated, %d exact", what, got, exact)
	}
}

// A visitor that two instances saw on one link and day counts once: the
// store merges sketches, it does not add estimates.
func testSketchesMergeAcrossWriters(t *testing.T, open CountsOpener) {
	s, other := open(t)
	ids := func(from, to int) []int {
		var out []int
		for i := from; i < to; i++ {
			out = append(out, i)
		}
		return out
	}
	apply(t, s, newBatch(1, 1, newDelta("c1", countsDay, 1, nil, ids(0, 600)...)))
	apply(t, s, newBatch(1, 2, newDelta("c1", countsDay, 1, nil, ids(600, 1000)...)))
	apply(t, other, newBatch(2, 1, newDelta("c1", countsDay, 1, nil, ids(0, 1000)...)))
	uniques := func() uint64 {
		t.Helper()
		recs := records(t, s, "c1", stats.Period{From: countsDay, To: countsDay})
		if len(recs) != 1 || recs[0].Visitors == nil {
			t.Fatalf("records of c1: %v; want one day with a sketch", recs)
		}
		got := recs[0].Visitors.Estimate()
		scanned := scanAll(t, other, stats.Period{From: countsDay, To: countsDay})
		if len(scanned) != 1 || scanned[0].Counts[stats.Uniques] != got {
			t.Fatalf("Scan gives %v; Records' sketch estimates %d", scanned, got)
		}
		return got
	}
	checkEstimate(t, "the same 1,000 visitors from two writers", uniques(), 1000)
	apply(t, other, newBatch(2, 2, newDelta("c1", countsDay, 1, nil, ids(1000, 1500)...)))
	checkEstimate(t, "then 500 more", uniques(), 1500)
}

// scanned is a copy of what a Scan passed to fn.
type scanned struct {
	Key    string
	Day    stats.Day
	Counts map[stats.Metric]uint64
}

func scanAll(t *testing.T, s stats.Store, p stats.Period) []scanned {
	t.Helper()
	var out []scanned
	err := s.Scan(ctx(t), p, func(kc stats.KeyCounts) error {
		out = append(out, scanned{kc.Key, kc.Day, maps.Clone(kc.Counts)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Scan gives every key-day of the period once, day by day, keys in
// bytewise order within a day, with every counter and the sketch's
// estimate as Uniques; nothing outside the period. It reads thousands of
// key-days, more than a store may read at once: keys with counters and
// visitors, with counters only (c…), and with visitors only (v…), in runs
// of each.
func testScanOrderAndContents(t *testing.T, open CountsOpener) {
	s, other := open(t)
	m := model{}
	keys := slices.Clone(oddKeys)
	for i := range 1600 {
		keys = append(keys, fmt.Sprintf("c%04d", i*7919%1600), fmt.Sprintf("v%04d", i))
	}
	for day := range stats.Day(4) {
		var deltas []stats.Delta
		for i, key := range keys {
			if (i+int(day))%3 == 0 && day > 0 {
				continue // not every key every day
			}
			var vs []int
			if i%5 == 0 || strings.HasPrefix(key, "v") {
				vs = []int{i, i + 1, int(day)}
			}
			metrics := clicksShares
			switch {
			case strings.HasPrefix(key, "v"):
				metrics = nil
			case i%7 == 0:
				metrics = manyMetrics
			}
			deltas = append(deltas, newDelta(key, countsDay+day, uint64(i%9+1), metrics, vs...))
		}
		b := newBatch(1, uint64(day+1), deltas...)
		m.add(t, b.Deltas)
		apply(t, s, b)
	}
	period := stats.Period{From: countsDay + 1, To: countsDay + 2}
	var want []scanned
	for k, r := range m {
		if period.Contains(k.Day) {
			want = append(want, scanned{k.Code, k.Day, counts(r)})
		}
	}
	slices.SortFunc(want, func(x, y scanned) int { return cmp.Or(cmp.Compare(x.Day, y.Day), strings.Compare(x.Key, y.Key)) })
	got := scanAll(t, other, period)
	if len(got) != len(want) {
		t.Fatalf("Scan gave %d key-days, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Key != want[i].Key || got[i].Day != want[i].Day || !maps.Equal(got[i].Counts, want[i].Counts) {
			t.Fatalf("Scan's key-day %d: %q on %s %v; want %q on %s %v", i, got[i].Key, got[i].Day, got[i].Counts, want[i].Key, want[i].Day, want[i].Counts)
		}
	}
	if got := scanAll(t, other, stats.Period{From: countsDay + 5, To: countsDay + 9}); len(got) != 0 {
		t.Fatalf("Scan of days without counts gave %v", got)
	}
}

// Scan stops at fn's first error and returns it.
func testScanStopsAtFnsError(t *testing.T, open CountsOpener) {
	s, other := open(t)
	var deltas []stats.Delta
	for i := range 10 {
		deltas = append(deltas, newDelta(fmt.Sprintf("c%d", i), countsDay, 1, clicksShares))
	}
	apply(t, s, newBatch(1, 1, deltas...))
	stop := errors.New("stop")
	calls := 0
	err := other.Scan(ctx(t), stats.Period{From: countsDay, To: countsDay}, func(stats.KeyCounts) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("Scan returned %v after %d calls; want fn's error after 3", err, calls)
	}
}

// An Apply that fails (here its context is cancelled before it starts)
// changes nothing; one that succeeds in spite of it counts. Either way
// the batch, retried, counts once.
func testCancelledApplyCountsOnceOnly(t *testing.T, open CountsOpener) {
	s, other := open(t)
	apply(t, s, newBatch(1, 1, newDelta("c1", countsDay, 1, clicksShares, 1)))
	b := newBatch(1, 2,
		newDelta("c1", countsDay, 5, clicksShares, 2),
		newDelta("c2", countsDay, 5, clicksShares, 3))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	clicks := func(key string) uint64 {
		t.Helper()
		recs := records(t, other, key, stats.Period{From: countsDay, To: countsDay})
		if len(recs) == 0 {
			return 0
		}
		return recs[0].Counts[stats.Clicks]
	}
	if err := s.Apply(cancelled, b); err != nil {
		if c1, c2 := clicks("c1"), clicks("c2"); c1 != 1 || c2 != 0 {
			t.Fatalf("after a failed Apply (%v): c1 %d, c2 %d clicks; want 1 and 0, as before", err, c1, c2)
		}
	}
	apply(t, other, b) // the aggregator's retry
	if c1, c2 := clicks("c1"), clicks("c2"); c1 != 6 || c2 != 5 {
		t.Fatalf("after the retry: c1 %d, c2 %d clicks; want 6 and 5", c1, c2)
	}
}
