// Package stats counts what happens to links: in memory on the click path,
// and in a Store at each flush.
//
// # Where a count is
//
// A count (one event under one counter, or one visitor ID) is in exactly
// one of these places at a time:
//
//  1. the queue of its partition (partition.events): counted since the
//     last flush;
//  2. the sums of its partition (partition.summed): the same, summed per
//     link-day, for a queue that filled up before a flush and for
//     counters the id table has no room for;
//  3. the held batch (Aggregator.held): taken by a flush whose write
//     failed, and written again, as it is, before anything newer;
//  4. the Store, once an Apply of its batch returned nil.
//
// A flush moves counts from 1 and 2 to a new batch and hands it to the
// store; it holds flushMu meanwhile, so no reader sees the batch in
// flight. If the write fails the batch goes to 3, so a count moves only
// forward, and reads (Summary, Scan), which hold flushMu for reading, add
// the four places up and see each count once.
//
// One exception: a write may fail after the store committed it (a lost
// answer from a database server). The held batch is then in the store
// too, and reads count it twice until the retry, which the store
// recognises by the batch's Writer and Seq and does not count again.
//
// What the store does with a batch is its own affair: the bbolt store
// (store/) appends it to a log and keeps it in memory until a fold, so
// that a flush costs one write however many links it touches; its reads
// include what it has not folded yet.
//
// Nothing on the click path waits on the disk or takes a lock a flush
// holds across a write: clicks take only their partition's lock, which a
// flush holds while it swaps the queue out.
package stats

import (
	"context"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// Day is a UTC calendar day, counted from the Unix epoch.
type Day int32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 { // floor, not truncation, before 1970
		d--
	}
	return Day(d)
}

// Time returns midnight UTC of d.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String returns d as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// Period is a span of days, From and To included.
type Period struct{ From, To Day }

// MaxPeriodDays bounds a Period: reading one costs a lookup per day.
const MaxPeriodDays = 20 * 366

// Valid reports whether p is in order and at most MaxPeriodDays long.
func (p Period) Valid() bool { return p.From <= p.To && int(p.To-p.From) < MaxPeriodDays }

// Contains reports whether d falls in p.
func (p Period) Contains(d Day) bool { return p.From <= d && d <= p.To }

// Metric names a counter kept per link and day.
type Metric string

const (
	// Clicks counts human clicks: redirects of a GET that was no preview,
	// scanner or bot.
	Clicks Metric = "clicks"
	// Uniques is the estimated number of distinct visitors among the clicks,
	// read from the day's sketch; it is never a stored counter.
	Uniques Metric = "uniques"
	// Shares counts share intents: a press on a share button, or a copy of
	// a passage that carried the copy link.
	Shares Metric = "shares"
)

// DayKey names everything counted for one link (or page-view key) on one
// day.
type DayKey struct {
	Code string
	Day  Day
}

// Compare orders day keys by code, bytewise as Go compares strings (in SQL,
// COLLATE "C"), then day: the order of a Batch.
func (k DayKey) Compare(o DayKey) int {
	switch {
	case k.Code < o.Code:
		return -1
	case k.Code > o.Code:
		return 1
	}
	return int(k.Day) - int(o.Day)
}

// Record is what is known of one link on one day.
type Record struct {
	Counts   map[Metric]uint64   // every counter but Uniques; never nil
	Visitors *hyperloglog.Sketch // the visitor IDs' sketch (precision 14); nil when none was seen
}

// withUniques returns r's counters with the sketch's estimate as Uniques.
// It adds Uniques to r.Counts: r is the caller's.
func (r *Record) withUniques() map[Metric]uint64 {
	if r.Counts == nil {
		r.Counts = make(map[Metric]uint64, 1)
	}
	if r.Visitors != nil {
		r.Counts[Uniques] = r.Visitors.Estimate()
	}
	return r.Counts
}

// DayRecord is the Record of one day.
type DayRecord struct {
	Day Day
	Record
}

// Batch is what one flush of an Aggregator counted: the store adds it to
// what it holds.
type Batch struct {
	// Writer names the Aggregator: random, one per process.
	Writer uint64
	// Seq increases with each batch of a Writer. A batch whose write
	// failed is written again with the same Seq and Deltas, before any
	// later batch of its Writer, so a store that remembers the last Seq
	// of each Writer can count a retry once even if the failed write was
	// committed.
	Seq uint64
	// Deltas holds each link-day once, sorted by DayKey.Compare: a store
	// that locks rows in this order cannot deadlock with another writer.
	Deltas []Delta
}

// Store keeps the counts of every link and day. It is implemented outside
// this package (store/).
type Store interface {
	// Apply adds every delta of b to the stored counts, atomically: after
	// an error, none of b counts (or, if the store cannot tell, it counts
	// once a retry of b succeeds). A batch of a Writer and Seq already
	// applied is not counted again. Neither the aggregator nor the store
	// changes b's deltas once Apply is called: the store may keep them.
	Apply(ctx context.Context, b Batch) error
	// Records returns the records of code on the days of period that have
	// counts, in day order, with every batch applied before. The caller
	// owns them.
	Records(ctx context.Context, code string, period Period) ([]DayRecord, error)
	// Scan calls fn with the counts of every key counted in period, day by
	// day and, within a day, in key order (bytewise, as DayKey.Compare),
	// each key and day once: every counter, and the estimate of the day's
	// unique visitors as Uniques. kc.Counts is valid only during the call.
	// It stops at fn's first error, and returns it.
	Scan(ctx context.Context, period Period, fn func(kc KeyCounts) error) error
}

// KeyCounts are the counters of one key (a code, or a page-view key) on
// one day, with the day's unique visitors read from its sketch as Uniques.
// Counts is valid only during the call it is passed to.
type KeyCounts struct {
	Key    string
	Day    Day
	Counts map[Metric]uint64
}

// Summary is what is known of one link: stored and pending counts together.
type Summary struct {
	// Totals holds every counter summed over all days, and Uniques: the
	// estimated unique visitors of each day, added up (a visitor cannot be
	// recognised from one day to the next, by design).
	Totals map[Metric]uint64
	Days   []DayCounts // ascending, only days with a non-zero counter
}

// DayCounts are the counters of one day.
type DayCounts struct {
	Day    Day
	Counts map[Metric]uint64
}
