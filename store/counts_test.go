package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/darkshare/darkshare/pkg/stats"
)

// delta returns a delta of code on day: n clicks, and visitors.
func delta(code string, day stats.Day, n uint64, visitors ...uint64) stats.Delta {
	d := stats.Delta{DayKey: stats.DayKey{Code: code, Day: day}}
	d.Add(stats.Clicks, n)
	for _, v := range visitors {
		d.AddVisitor(v * 0x9E3779B97F4A7C15)
	}
	return d
}

// batch returns a batch of deltas, sorted as an aggregator sorts them.
func batch(writer, seq uint64, deltas ...stats.Delta) stats.Batch {
	slices.SortFunc(deltas, func(x, y stats.Delta) int { return x.DayKey.Compare(y.DayKey) })
	return stats.Batch{Writer: writer, Seq: seq, Deltas: deltas}
}

func mustApply(t *testing.T, db *DB, b stats.Batch) {
	t.Helper()
	if err := db.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
}

// clicksByDay reads the clicks of code from db.Records.
func clicksByDay(t *testing.T, db *DB, code string) map[stats.Day]uint64 {
	t.Helper()
	recs, err := db.Records(ctx, code, stats.Period{From: 19000, To: 21000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[stats.Day]uint64{}
	for i, r := range recs {
		if i > 0 && recs[i-1].Day >= r.Day {
			t.Fatalf("records out of day order: %v", recs)
		}
		out[r.Day] = r.Counts[stats.Clicks]
	}
	return out
}

// openAt opens the db file at path; at cleanup, unless the test closed it,
// it runs bbolt's check and closes it.
func openAt(t *testing.T, path string, opts ...Option) *DB {
	t.Helper()
	db, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			return
		} else if err != nil {
			t.Errorf("db check: %v", err)
		}
		_ = db.Close()
	})
	return db
}

// reopen closes db, after bbolt's check, and opens its file again.
func reopen(t *testing.T, db *DB, path string, opts ...Option) *DB {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openAt(t, path, opts...)
}

func logLength(t *testing.T, db *DB) int {
	t.Helper()
	n := 0
	_ = db.bolt.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketLog).Stats().KeyN; return nil })
	return n
}

func dayRecords(t *testing.T, db *DB) int {
	t.Helper()
	n := 0
	_ = db.bolt.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketDays).Stats().KeyN; return nil })
	return n
}

// Batches add up per link and day, keep links and days apart, and a batch
// of a Writer and Seq already applied counts once.
func TestApplyAddsUpAndCountsARetryOnce(t *testing.T) {
	db, _ := mustOpen(t)
	day := stats.Day(20000)
	b := batch(1, 1, delta("ab", day, 1), delta("ab", day+1, 2), delta("abc", day, 3))
	mustApply(t, db, b)
	mustApply(t, db, b) // a retry
	mustApply(t, db, batch(1, 2, delta("ab", day, 1), delta("abc", day, 3)))
	mustApply(t, db, batch(2, 1, delta("ab", day, 10))) // another writer
	mustApply(t, db, batch(1, 1, delta("ab", day, 100)))
	if got := clicksByDay(t, db, "ab"); len(got) != 2 || got[day] != 12 || got[day+1] != 2 {
		t.Fatalf("ab: %v; want day 20000: 12, day 20001: 2, and nothing of abc", got)
	}
	if got := clicksByDay(t, db, "abc"); got[day] != 6 {
		t.Fatalf("abc: %v", got)
	}
}

// Applied counts wait in memory and the log until a fold. A restart before
// the fold reads them back; the fold deletes them with the same
// transaction that writes the day records, so nothing counts twice.
func TestLogIsReplayedThenFoldedOnce(t *testing.T) {
	db, path := mustOpen(t)
	for seq := range uint64(5) {
		mustApply(t, db, batch(1, seq+1, delta("abc", 20000, 1, seq)))
	}
	if n := logLength(t, db); n == 0 || dayRecords(t, db) != 0 {
		t.Fatalf("after applies: %d log entries, %d day records; want some and none", n, dayRecords(t, db))
	}
	db = reopen(t, db, path)
	if got := clicksByDay(t, db, "abc"); got[20000] != 5 {
		t.Fatalf("after a restart: %v, want 5 clicks", got)
	}
	mustApply(t, db, batch(2, 1, delta("abc", 20000, 1)))
	if err := db.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	if n := logLength(t, db); n != 0 || dayRecords(t, db) != 1 {
		t.Fatalf("after a fold: %d log entries, %d day records; want none and one", n, dayRecords(t, db))
	}
	db = reopen(t, db, path)
	if got := clicksByDay(t, db, "abc"); got[20000] != 6 {
		t.Fatalf("%v after replay and fold, want 6 clicks", got)
	}
	recs, err := db.Records(ctx, "abc", stats.Period{From: 20000, To: 20000})
	if err != nil || len(recs) != 1 || recs[0].Visitors == nil || recs[0].Visitors.Estimate() != 5 {
		t.Fatalf("visitors after the fold: %+v, %v; want 5", recs, err)
	}
}

// Each Apply checkpoints one partition; a checkpoint stands for the log
// entries before it, which are then cut. Through rounds of batches a
// restart at any point reads every click exactly once, and the log stays
// about a round long.
func TestCheckpointsCutTheLogAndCountOnce(t *testing.T) {
	db, path := mustOpen(t)
	codes := make([]string, 300)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%d", i)
	}
	const applies = 80 // two and a half rounds of 32 partitions
	for i := range applies {
		var deltas []stats.Delta
		for _, c := range codes {
			deltas = append(deltas, delta(c, 20000+stats.Day(i%2), 1))
		}
		mustApply(t, db, batch(uint64(1+i/30), uint64(i+1), deltas...))
		if i%9 == 4 {
			db = reopen(t, db, path)
		}
		if got := clicksByDay(t, db, codes[i%len(codes)]); got[20000]+got[20001] != uint64(i+1) {
			t.Fatalf("after apply %d, %s has %v, want %d clicks", i, codes[i%len(codes)], got, i+1)
		}
	}
	if n := logLength(t, db); n > 40 {
		t.Fatalf("the log holds %d entries after %d applies; checkpoints should cut it to about 32", n, applies)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if n := logLength(t, db); n != 0 {
		t.Fatalf("the log holds %d entries after a checkpoint of every partition", n)
	}
	db = reopen(t, db, path)
	for _, c := range codes {
		if got := clicksByDay(t, db, c); got[20000] != applies/2 || got[20001] != applies/2 {
			t.Fatalf("%s: %v after the checkpoints, want %d a day", c, got, applies/2)
		}
	}
	if err := db.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChecks).ForEach(func(k, v []byte) error {
			if len(v) > 9 {
				t.Errorf("checkpoint %x still holds counts after a fold of every partition", k)
			}
			return nil
		})
	})
	if got := clicksByDay(t, db, codes[7]); got[20000]+got[20001] != applies {
		t.Fatalf("%v after the fold, want %d", got, applies)
	}
}

// clock is a time that a test moves on.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// Counts are folded into the day records once they are foldAfter old, at
// their partition's turn in the round, and not before; reads are the same
// before, during and after.
func TestFoldsWaitForFoldAfter(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "d.db")
	db := openAt(t, path, WithClock(clk.Now))
	codes := make([]string, 200)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%d", i)
	}
	seq := uint64(0)
	round := func() {
		t.Helper()
		for range partitionCount {
			seq++
			var deltas []stats.Delta
			for _, c := range codes {
				deltas = append(deltas, delta(c, 20000, 1))
			}
			mustApply(t, db, batch(1, seq, deltas...))
			clk.Add(time.Second)
		}
	}
	check := func(when string) {
		t.Helper()
		for _, c := range codes[:20] {
			if got := clicksByDay(t, db, c); got[20000] != seq {
				t.Fatalf("%s: %s has %v, want %d clicks", when, c, got, seq)
			}
		}
	}
	round()
	clk.Add(foldAfter - 2*time.Minute)
	round()
	if n := dayRecords(t, db); n != 0 {
		t.Fatalf("%d day records before the counts were %s old", n, foldAfter)
	}
	check("before the folds")
	clk.Add(2 * time.Minute)
	for range partitionCount / 2 {
		seq++
		var deltas []stats.Delta
		for _, c := range codes {
			deltas = append(deltas, delta(c, 20000, 1))
		}
		mustApply(t, db, batch(1, seq, deltas...))
	}
	if n := dayRecords(t, db); n == 0 || n == len(codes) {
		t.Fatalf("%d day records half way through the round, want some", n)
	}
	check("half way")
	round()
	if n := dayRecords(t, db); n != len(codes) {
		t.Fatalf("%d day records after the round, want %d", n, len(codes))
	}
	check("after the folds")
	db = reopen(t, db, path, WithClock(clk.Now))
	check("after a restart")
}

// A write that fails (here a fold that meets a record it cannot read)
// changes nothing: not the log, not the checkpoints, not the counts in
// memory; fixed, the same batch applies once.
func TestFailedApplyChangesNothing(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	db := openAt(t, filepath.Join(t.TempDir(), "d.db"), WithClock(clk.Now))
	code := "x"
	part := partitionOf(code)
	seq := uint64(0)
	for range partitionCount {
		seq++
		mustApply(t, db, batch(1, seq, delta(code, 20001, 1), delta("y", 20001, 1)))
	}
	clk.Add(foldAfter)
	// Bring the round to the step before x's partition, and leave x's
	// record unreadable.
	for db.counts.nextPart != part {
		seq++
		mustApply(t, db, batch(1, seq, delta("y", 20001, 1)))
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDays).Put(dayKey(stats.DayKey{Code: code, Day: 20001}), []byte{9, 9})
	}); err != nil {
		t.Fatal(err)
	}
	snapshot := func() (int, map[string][]byte) {
		cps := map[string][]byte{}
		_ = db.bolt.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketChecks).ForEach(func(k, v []byte) error { cps[string(k)] = slices.Clone(v); return nil })
		})
		return logLength(t, db), cps
	}
	logBefore, cpsBefore := snapshot()
	failing := batch(1, seq+1, delta(code, 20001, 5), delta("y", 20001, 5))
	if err := db.Apply(ctx, failing); err == nil {
		t.Fatal("a fold over an unreadable record succeeded")
	}
	if logAfter, cpsAfter := snapshot(); logAfter != logBefore || !maps.EqualFunc(cpsAfter, cpsBefore, slices.Equal) {
		t.Fatalf("a failed apply changed the log (%d to %d entries) or the checkpoints", logBefore, logAfter)
	}
	if got := clicksByDay(t, db, "y"); got[20001] != seq {
		t.Fatalf("after a failed apply, y has %v, want %d clicks", got, seq)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDays).Delete(dayKey(stats.DayKey{Code: code, Day: 20001}))
	}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, db, failing)
	if got := clicksByDay(t, db, "y"); got[20001] != seq+5 {
		t.Fatalf("after the retry, y has %v, want %d clicks", got, seq+5)
	}
	if got := clicksByDay(t, db, code); got[20001] != 5+partitionCount {
		t.Fatalf("after the retry, x has %v, want %d clicks", got, 5+partitionCount)
	}
}

// Runs merged into one hold each link-day once, in order, with the sum of
// its counts in every run; the runs themselves stay as they were; find
// reads a code's days back.
func TestMergeRunsSumsEachLinkDayOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[stats.DayKey]uint64{}
	var runs []run
	for range 7 {
		var deltas []stats.Delta
		for range rng.IntN(300) {
			d := delta(fmt.Sprint("c", rng.IntN(40)), stats.Day(20000+rng.IntN(5)), uint64(1+rng.IntN(3)), uint64(rng.IntN(4)))
			deltas = append(deltas, d)
			want[d.DayKey] += clicksOf(&d)
		}
		runs = append(runs, normalize(deltas))
	}
	before := map[stats.DayKey]uint64{}
	for _, r := range runs {
		for i := range r {
			before[r[i].DayKey] += clicksOf(&r[i])
		}
	}
	merged := mergeRuns(runs)
	got := map[stats.DayKey]uint64{}
	for i := range merged {
		if i > 0 && compareDeltas(&merged[i-1], &merged[i]) >= 0 {
			t.Fatalf("deltas %d and %d out of order: %v, %v", i-1, i, merged[i-1].DayKey, merged[i].DayKey)
		}
		got[merged[i].DayKey] = clicksOf(&merged[i])
	}
	if !maps.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	after := map[stats.DayKey]uint64{}
	for _, r := range runs {
		for i := range r {
			after[r[i].DayKey] += clicksOf(&r[i])
		}
	}
	if !maps.Equal(before, after) {
		t.Fatal("merging changed the runs")
	}
	period := stats.Period{From: 20001, To: 20003}
	found := map[stats.DayKey]uint64{}
	for d := range merged.find("c7", period) {
		found[d.DayKey] = clicksOf(d)
	}
	for k, n := range want {
		if k.Code == "c7" && period.Contains(k.Day) && found[k] != n {
			t.Errorf("find: %v has %d, want %d", k, found[k], n)
		}
	}
	if len(found) == 0 || len(found) > 3 {
		t.Errorf("find gave %v", found)
	}
}

func clicksOf(d *stats.Delta) uint64 { return maps.Collect(d.Counters())[stats.Clicks] }

// Scan gives every key of each day once, in key order, with folded and
// unfolded counts added and a visitor in both counted once.
func TestScanMergesFoldedAndUnfolded(t *testing.T) {
	db, _ := mustOpen(t)
	mustApply(t, db, batch(1, 1, delta("b", 20000, 1, 7), delta("d", 20000, 1), delta("a", 20001, 1)))
	if err := db.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	mustApply(t, db, batch(1, 2, delta("a", 20000, 1), delta("b", 20000, 2, 7, 8), delta("c", 20000, 1), delta("e", 20000, 1), delta("a", 20002, 1)))
	type seen struct {
		key             string
		day             stats.Day
		clicks, uniques uint64
	}
	var got []seen
	err := db.Scan(ctx, stats.Period{From: 20000, To: 20001}, func(kc stats.KeyCounts) error {
		got = append(got, seen{kc.Key, kc.Day, kc.Counts[stats.Clicks], kc.Counts[stats.Uniques]})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{{"a", 20000, 1, 0}, {"b", 20000, 3, 2}, {"c", 20000, 1, 0}, {"d", 20000, 1, 0}, {"e", 20000, 1, 0}, {"a", 20001, 1, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("scanned %v, want %v", got, want)
	}
}

// FuzzDecodeDeltas: bytes of the log and checkpoints never crash Open, and
// what decodes encodes back to the same deltas.
func FuzzDecodeDeltas(f *testing.F) {
	good, _ := encodeDeltas(nil, slices.Values([]stats.Delta{delta("abc", 20000, 2, 42), delta("~https://x.org/", 20001, 1)}))
	f.Add(good)
	f.Add([]byte{1, 'x', 0, 2, 3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var deltas []stats.Delta
		if err := decodeDeltas(data, func(d stats.Delta) error { deltas = append(deltas, d); return nil }); err != nil {
			return
		}
		again, err := encodeDeltas(nil, slices.Values(deltas))
		if err != nil {
			return // a sketch that decodes but cannot encode
		}
		var back []stats.Delta
		if err := decodeDeltas(again, func(d stats.Delta) error { back = append(back, d); return nil }); err != nil || len(back) != len(deltas) {
			t.Fatalf("round trip of %v: %d deltas, %v", data, len(back), err)
		}
		for i := range back {
			if back[i].DayKey != deltas[i].DayKey || !maps.Equal(maps.Collect(back[i].Counters()), maps.Collect(deltas[i].Counters())) {
				t.Fatalf("delta %d: %v came back as %v", i, deltas[i].DayKey, back[i].DayKey)
			}
		}
	})
}

// A damaged log leaves the db open for the tools that need no counts
// (check, backup), and fails every use of counts with the same error.
func TestDamagedLogFailsCountsNotOpen(t *testing.T) {
	db, path := mustOpen(t)
	mustApply(t, db, batch(1, 1, delta("abc", 20000, 1)))
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLog).Put(binary.BigEndian.AppendUint64(nil, 1<<40), []byte{3, 'a'})
	}); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	if _, err := db.Backup(io.Discard); err != nil {
		t.Fatalf("backup of a db with a damaged log: %v", err)
	}
	first := db.LoadCounts()
	if !errors.Is(first, errLog) {
		t.Fatalf("LoadCounts: %v, want a malformed log entry", first)
	}
	if _, err := db.Records(ctx, "abc", stats.Period{From: 20000, To: 20000}); !errors.Is(err, errLog) {
		t.Fatalf("Records: %v", err)
	}
	if err := db.Apply(ctx, batch(2, 1, delta("abc", 20000, 1))); !errors.Is(err, errLog) {
		t.Fatalf("Apply: %v", err)
	}
}
