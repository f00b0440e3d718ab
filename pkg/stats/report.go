package stats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Scan calls fn with the counts of every key on every day of period, day by
// day and in key order within a day: stored and pending counts merged, each
// key and day once. It holds off flushes while it runs, so fn must not wait
// on anything slow (a client's connection, say): scan a day at a time for
// that.
func (a *Aggregator) Scan(ctx context.Context, period Period, fn func(KeyCounts) error) error {
	if !period.Valid() {
		return ErrPeriod
	}
	a.flushMu.RLock()
	defer a.flushMu.RUnlock()
	mem, err := a.inMemory(ctx, period)
	if err != nil {
		return fmt.Errorf("scan %s to %s: %w", period.From, period.To, err)
	}
	// The store's keys and mem's, merged in order; mem's counts include
	// the store's, and stand for them.
	i := 0
	err = a.store.Scan(ctx, period, func(kc KeyCounts) error {
		for i < len(mem) {
			c := compareKeyCounts(&mem[i], &kc)
			if c > 0 {
				break
			}
			i++
			if err := fn(mem[i-1]); err != nil || c == 0 {
				return err
			}
		}
		return fn(kc)
	})
	for ; err == nil && i < len(mem); i++ {
		err = fn(mem[i])
	}
	if err != nil {
		return fmt.Errorf("scan %s to %s: %w", period.From, period.To, err)
	}
	return nil
}

func compareKeyCounts(x, y *KeyCounts) int {
	if c := cmp.Compare(x.Day, y.Day); c != 0 {
		return c
	}
	return cmp.Compare(x.Key, y.Key)
}

// inMemory returns the whole counts, stored ones included, of every
// link-day of period that has counts in memory, in the order of a scan;
// the caller holds flushMu. Merging visitors takes the stored sketch,
// which a scan does not read: those few link-days are read by Records.
func (a *Aggregator) inMemory(ctx context.Context, period Period) ([]KeyCounts, error) {
	deltas := make(map[DayKey]*Delta)
	on := func(k DayKey) *tally {
		d := deltas[k]
		if d == nil {
			d = &Delta{DayKey: k}
			deltas[k] = d
		}
		return &d.t
	}
	if a.held != nil {
		for i := range a.held.Deltas {
			if d := &a.held.Deltas[i]; period.Contains(d.Day) {
				on(d.DayKey).merge(&d.t)
			}
		}
	}
	for i := range a.parts {
		p := &a.parts[i]
		p.mu.Lock() // the events are still being added to
		for j := range p.events {
			if ev := &p.events[j]; period.Contains(ev.Day) {
				ev.addTo(on(ev.DayKey))
			}
		}
		for j := range p.summed.sums {
			if d := &p.summed.sums[j]; period.Contains(d.Day) {
				on(d.DayKey).merge(&d.t)
			}
		}
		p.mu.Unlock()
	}
	out := make([]KeyCounts, 0, len(deltas))
	for k, d := range deltas {
		stored, err := a.store.Records(ctx, k.Code, Period{From: k.Day, To: k.Day})
		if err != nil {
			return nil, fmt.Errorf("read the record of %s on %s: %w", k.Code, k.Day, err)
		}
		var r Record
		if len(stored) > 0 {
			r = stored[0].Record
		}
		if err := d.AddTo(&r); err != nil {
			return nil, err
		}
		out = append(out, KeyCounts{Key: k.Code, Day: k.Day, Counts: r.withUniques()})
	}
	slices.SortFunc(out, func(x, y KeyCounts) int { return compareKeyCounts(&x, &y) })
	return out, nil
}
