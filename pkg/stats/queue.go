package stats

import (
	"slices"
	"sync"
)

// Counts are split into partitions by a hash of the code, each with its
// own lock, so that clicks on different links seldom wait on each other.
// A click appends an event to its partition's queue; a flush sums each
// partition's events per link-day in a map of the flush's link-days, then
// sorts the sums: with clicks spread over a million links, looking each
// click's link-day up in a map as it came was a cache miss or more apiece
// (docs/PERFORMANCE.md).
const (
	partitionCount = 32
	// maxQueued bounds a partition's queue of events: past it, the click
	// that fills it sums the queue as a flush would. A flush that hangs (a
	// disk that stops answering) then costs memory per link-day, not per
	// click.
	maxQueued = 1 << 16
)

// partition holds the counts of the codes whose hash is its index, modulo
// partitionCount, since the last flush.
type partition struct {
	mu     sync.Mutex
	events []event // counted since the last flush; mu
	summed summing // the same, summed: a full queue, or counters the id table could not name; mu
	spare  []event // the other events buffer, swapped at each flush; the aggregator's flushMu
}

// event is one count as Add or RecordVisit makes it: one to each of up to
// tallySlots counters, and a visitor.
type event struct {
	pendingKey
	ids        [tallySlots]counterID
	n          uint8 // ids in use
	hasVisitor bool
	visitor    uint64
}

// pendingKey is a link-day with the hash of its code, by which a flush
// groups events without reading their codes: at a million links, a code's
// bytes are a cache miss away.
type pendingKey struct {
	hash uint64
	DayKey
}

func (ev *event) addTo(t *tally) {
	for _, id := range ev.ids[:ev.n] {
		t.addID(id, 1)
	}
	if ev.hasVisitor {
		t.addVisitor(ev.visitor)
	}
}

// queue appends ev to the partition's queue, summing the queue if it is
// full; the caller holds mu.
func (p *partition) queue(ev event) {
	p.events = append(p.events, ev)
	if len(p.events) < maxQueued {
		return
	}
	p.summed.sum(p.events)
	clear(p.events)
	p.events = p.events[:0]
}

// takeInto moves the partition's counts into s, and returns the number of
// events they hold. The caller holds the aggregator's flushMu.
func (p *partition) takeInto(s *summing) int64 {
	p.mu.Lock()
	events := p.events
	p.events, p.spare = p.spare[:0], nil
	summed := p.summed.sums
	p.summed = summing{} // rare: a queue that filled up, counters past the id table
	p.mu.Unlock()

	n := s.sum(events)
	clear(events) // the codes may be let go of
	p.spare = events[:0]
	for i := range summed {
		s.of(&pendingKey{summed[i].hash, summed[i].DayKey}).merge(&summed[i].t)
		n += summed[i].events()
	}
	return n
}

// summing sums events by link-day: the flush's, for every partition's
// queue, and each partition's own, for a queue that filled up and for
// counters no event can name. A map of the link-days, then a sort of the
// sums' indexes, costs a fraction of sorting the events themselves (with
// 1,000 links, a second's 130,000 clicks are 1,000 link-days; sorting the
// clicks held requests up for milliseconds) or the 100-byte sums.
type summing struct {
	index map[groupKey]int32 // where each link-day is in sums
	sums  []pendingDelta
	order []int32 // of sums
}

type pendingDelta struct {
	hash uint64
	Delta
}

type groupKey struct {
	hash uint64
	day  Day
}

// sum adds events to the sums, and returns the number of events.
func (s *summing) sum(events []event) int64 {
	var n int64
	for i := range events {
		ev := &events[i]
		ev.addTo(s.of(&ev.pendingKey))
		n += int64(ev.n)
	}
	return n
}

// of returns the sum of k's link-day, an empty one if it had none.
func (s *summing) of(k *pendingKey) *tally {
	if s.index == nil {
		s.index = make(map[groupKey]int32)
	}
	gk := groupKey{k.hash, k.Day}
	j, ok := s.index[gk]
	switch {
	case !ok:
		j = s.add(k)
		s.index[gk] = j
	case s.sums[j].Code != k.Code:
		// Two codes of one 64-bit hash: the map keeps the first, a scan
		// finds the others.
		if j = s.find(k); j < 0 {
			j = s.add(k)
		}
	}
	return &s.sums[j].t
}

func (s *summing) add(k *pendingKey) int32 {
	i := int32(len(s.sums))
	s.sums = append(s.sums, pendingDelta{k.hash, Delta{DayKey: k.DayKey}})
	s.order = append(s.order, i)
	return i
}

func (s *summing) find(k *pendingKey) int32 {
	for i := range s.sums {
		if r := &s.sums[i]; r.hash == k.hash && r.Day == k.Day && r.Code == k.Code {
			return int32(i)
		}
	}
	return -1
}

// appendSorted appends the sums to deltas in DayKey order, and empties s.
func (s *summing) appendSorted(deltas []Delta) []Delta {
	slices.SortFunc(s.order, func(x, y int32) int { return s.sums[x].DayKey.Compare(s.sums[y].DayKey) })
	for _, i := range s.order {
		deltas = append(deltas, s.sums[i].Delta)
	}
	clear(s.index)
	clear(s.sums) // the codes and sketches are the deltas' now
	s.sums, s.order = s.sums[:0], s.order[:0]
	return deltas
}

// queuedOf returns the queued events of code in period, summed by day.
// Clicks on the partition wait meanwhile, so it only sums.
func (p *partition) queuedOf(hash uint64, code string, period Period) map[Day]*tally {
	out := make(map[Day]*tally)
	on := func(day Day) *tally {
		t := out[day]
		if t == nil {
			t = new(tally)
			out[day] = t
		}
		return t
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.events {
		if ev := &p.events[i]; ev.hash == hash && ev.Code == code && period.Contains(ev.Day) {
			ev.addTo(on(ev.Day))
		}
	}
	for i := range p.summed.sums {
		if r := &p.summed.sums[i]; r.hash == hash && r.Code == code && period.Contains(r.Day) {
			on(r.Day).merge(&r.t)
		}
	}
	return out
}
