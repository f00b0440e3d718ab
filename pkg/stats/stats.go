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

// Metric names a counter kept per link and day.
type Metric string

const (
	// Clicks counts redirects of a GET to a short link.
	Clicks Metric = "clicks"
	// Shares counts share intents: a press on a share button, or a copy of
	// a passage that carried the copy link.
	Shares Metric = "shares"
)

// Key identifies one counter.
type Key struct {
	Code   string
	Day    Day
	Metric Metric
}

// Count is a counter value, or an increment of one.
type Count struct {
	Key
	N uint64
}

// Store keeps counters. It is implemented outside this package (store/).
type Store interface {
	// AddCounts adds every increment in one atomic write: after an error, none
	// of them was applied.
	AddCounts(ctx context.Context, increments []Count) error
	// Counts returns the stored counters of code, in no particular order.
	Counts(ctx context.Context, code string) ([]Count, error)
}

// Summary is what is known of one link: stored and pending counts together.
type Summary struct {
	Totals map[Metric]uint64
	Days   []DayCounts // ascending, only days with a non-zero counter
}

// DayCounts are the counters of one day.
type DayCounts struct {
	Day    Day
	Counts map[Metric]uint64
}
