package stats

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// KeyCounts are the counters of one key (a code, or a page-view key) on
// one day, with the day's unique visitors read from its sketch as Uniques.
// Counts is valid only during the call it is passed to.
type KeyCounts struct {
	Key    string
	Day    Day
	Counts map[Metric]uint64
}

// Scan calls fn with the counts of every key on every day of period, day by
// day: stored, flushed and pending counts merged, each key and day once.
// It holds off flushes while it runs, so fn must not wait on anything slow
// (a client's connection, say): scan a day at a time for that.
func (a *Aggregator) Scan(ctx context.Context, period Period, fn func(KeyCounts) error) error {
	if !period.Valid() {
		return ErrPeriod
	}
	a.flushMu.RLock()
	defer a.flushMu.RUnlock()
	inMemory := a.inMemory(period)
	for day := period.From; day <= period.To; day++ {
		if err := a.scanDay(ctx, day, inMemory[day], fn); err != nil {
			return fmt.Errorf("scan %s: %w", day, err)
		}
	}
	return nil
}

// inMemory returns the unfolded and pending counts of period, merged, by
// day and key; the caller holds flushMu. A link-day's counts in one place
// are not copied, since flushMu keeps them as they are: a million of them
// may wait between folds. Nothing returned may be changed.
func (a *Aggregator) inMemory(period Period) map[Day]map[string]*tally {
	out := make(map[Day]map[string]*tally)
	copies := make(map[*tally]bool) // the tallies out may change
	keysOf := func(day Day) map[string]*tally {
		keys := out[day]
		if keys == nil {
			keys = make(map[string]*tally)
			out[day] = keys
		}
		return keys
	}
	// mutable returns k's tally in out as one that may be changed.
	mutable := func(k DayKey) *tally {
		keys := keysOf(k.Day)
		cur := keys[k.Code]
		switch {
		case cur == nil:
			cur = new(tally)
		case copies[cur]:
			return cur
		default:
			cur = cur.clone()
		}
		copies[cur] = true
		keys[k.Code] = cur
		return cur
	}
	for i := range a.parts {
		p := &a.parts[i]
		for _, r := range append(slices.Clip(p.runs), p.held) {
			for j := range r {
				if !period.Contains(r[j].Day) {
					continue
				}
				if keys := keysOf(r[j].Day); keys[r[j].Code] == nil {
					keys[r[j].Code] = &r[j].t
				} else {
					mutable(r[j].DayKey).merge(&r[j].t)
				}
			}
		}
		p.mu.Lock() // the events are still being added to
		for j := range p.events {
			if ev := &p.events[j]; period.Contains(ev.Day) {
				ev.addTo(mutable(ev.DayKey))
			}
		}
		for j := range p.summed.sums {
			if r := &p.summed.sums[j]; period.Contains(r.Day) {
				mutable(r.DayKey).merge(&r.t)
			}
		}
		p.mu.Unlock()
	}
	return out
}

func (a *Aggregator) scanDay(ctx context.Context, day Day, inMemory map[string]*tally, fn func(KeyCounts) error) error {
	counts, names := make(map[Metric]uint64, 16), make(map[string]Metric)
	err := a.store.ScanDay(ctx, day, func(key string, data []byte) error {
		mem := inMemory[key]
		if mem == nil { // most records: counters only, no sketch to merge
			clear(counts)
			if err := decodeCounts(data, counts, names); err != nil {
				return fmt.Errorf("decode the record of %s: %w", key, err)
			}
			return fn(KeyCounts{Key: key, Day: day, Counts: counts})
		}
		r, err := DecodeRecord(data)
		if err != nil {
			return fmt.Errorf("decode the record of %s: %w", key, err)
		}
		if err := mem.addTo(r); err != nil {
			return err
		}
		delete(inMemory, key)
		return fn(KeyCounts{Key: key, Day: day, Counts: r.withUniques()})
	})
	if err != nil {
		return err
	}
	// What no stored record holds yet, in key order like the rest.
	for _, key := range slices.Sorted(maps.Keys(inMemory)) {
		clear(counts)
		inMemory[key].countsInto(counts)
		if err := fn(KeyCounts{Key: key, Day: day, Counts: counts}); err != nil {
			return err
		}
	}
	return nil
}

// withUniques returns r's counters with the sketch's estimate as Uniques.
func (r *Record) withUniques() map[Metric]uint64 {
	if r.Visitors != nil {
		r.Counts[Uniques] = r.Visitors.Estimate()
	}
	return r.Counts
}
