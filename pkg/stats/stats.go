// Package stats counts what happens to links, in memory first and on disk at
// each flush, and reads the two back as one.
package stats

import (
	"context"
	"time"
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

// Merge updates one stored day record: it gets the stored bytes (nil if
// none) and returns the bytes to store.
type Merge struct {
	DayKey
	Apply func(stored []byte) ([]byte, error)
}

// StoredRecord is a day record as stored.
type StoredRecord struct {
	Day  Day
	Data []byte
}

// LogEntry is one flush's deltas as appended to the log.
type LogEntry struct {
	Seq  uint64
	Data []byte
}

// Checkpoint is the unfolded counts of one partition of the codes, standing
// for every log entry up to and including Seq.
type Checkpoint struct {
	Part int
	Seq  uint64
	Data []byte
}

// Store keeps day records, the log of flushed deltas not yet folded into
// them, and the checkpoints that let the log be cut. It is implemented
// outside this package (store/).
//
// Flushes append to the log: sequential keys, cheap however many links they
// touch. Checkpoints rewrite one partition's unfolded counts as one value,
// also cheap. Folds merge them into the day records far less often, so that
// a record written by a fold has collected many flushes' counts.
type Store interface {
	// AppendLog durably appends one flush's deltas and returns its sequence
	// number, larger than any before. It must not keep data: the aggregator
	// reuses the buffer.
	AppendLog(ctx context.Context, data []byte) (uint64, error)
	// Log returns the entries not yet cut, in order. The caller owns them.
	Log(ctx context.Context) ([]LogEntry, error)
	// Checkpoints returns the checkpoint of every partition that has one.
	// The caller owns them.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// Fold applies merges to the day records, replaces the checkpoint of
	// cp.Part with cp, and deletes the log entries up to and including
	// cutLog, in one atomic transaction: after an error, nothing changed.
	// It must not keep cp.Data, which the aggregator reuses.
	Fold(ctx context.Context, merges []Merge, cp Checkpoint, cutLog uint64) error
	// Records returns the stored day records of code in period, in day
	// order. The caller owns the bytes.
	Records(ctx context.Context, code string, period Period) ([]StoredRecord, error)
	// ScanDay calls fn with every stored record of day, in key order. data
	// is valid only during the call.
	ScanDay(ctx context.Context, day Day, fn func(key string, data []byte) error) error
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
