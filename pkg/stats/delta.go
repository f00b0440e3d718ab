package stats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/bits"

	"github.com/axiomhq/hyperloglog"
)

// Delta is what was counted of one link on one day between two flushes:
// counters to add to the stored ones, and visitor IDs to add to the day's
// sketch. Applying deltas in any order gives the same record.
//
// Its zero value (with a DayKey) is an empty delta. A store reads it with
// Counters and AddVisitorsTo, or AddTo; one that keeps deltas as they
// are (a log) with AppendBinary and UnmarshalBinary.
type Delta struct {
	DayKey
	t tally
}

// tally is a Delta's counts. With clicks spread over a million links,
// most link-days of a flush hold a click or two from one visitor, and a
// flush holds a hundred thousand of them: a tally keeps those in place,
// with the visitors' IDs as they are. A map of counters and a sketch cost
// several allocations and a sketch encoding per link-day
// (docs/PERFORMANCE.md).
type tally struct {
	metrics [tallySlots]counterID
	counts  [tallySlots]uint64
	used    uint8 // slots in use
	// Visitors are exact, visitors[:nVisitors], until there are more than
	// fit; then all of them are in extra's sketch.
	nVisitors uint8
	visitors  [exactVisitors]uint64
	// extra holds the counters past the slots, and the sketch; nil if none.
	extra *Record
}

const (
	tallySlots    = 4 // a click adds to 3 or 4 counters
	exactVisitors = 2
)

// Add counts n under m. Uniques is not a counter: it is ignored.
func (d *Delta) Add(m Metric, n uint64) {
	if m != Uniques && n > 0 {
		d.t.add(m, n)
	}
}

// AddVisitor adds a visitor ID.
func (d *Delta) AddVisitor(v uint64) { d.t.addVisitor(v) }

// Merge adds o's counts to d's; o is not changed.
func (d *Delta) Merge(o *Delta) { d.t.merge(&o.t) }

// Counters yields every counter of d once, none of them zero.
func (d *Delta) Counters() iter.Seq2[Metric, uint64] {
	return func(yield func(Metric, uint64) bool) {
		t := &d.t
		for i := range t.used {
			if !yield(counterIDs.name(t.metrics[i]), t.counts[i]) {
				return
			}
		}
		if t.extra != nil {
			for m, n := range t.extra.Counts {
				if !yield(m, n) {
					return
				}
			}
		}
	}
}

// Clone returns a copy of d that shares nothing with it.
func (d *Delta) Clone() Delta { return Delta{DayKey: d.DayKey, t: d.t.clone()} }

// HasVisitors reports whether d holds a visitor ID.
func (d *Delta) HasVisitors() bool {
	return d.t.nVisitors > 0 || (d.t.extra != nil && d.t.extra.Visitors != nil)
}

// AddVisitorsTo adds d's visitors to sk, a sketch of precision 14 (as
// hyperloglog.New14 makes; an error for any other).
func (d *Delta) AddVisitorsTo(sk *hyperloglog.Sketch) error {
	for _, v := range d.t.visitors[:d.t.nVisitors] {
		sk.InsertHash(v)
	}
	if d.t.extra == nil || d.t.extra.Visitors == nil {
		return nil
	}
	return sk.Merge(d.t.extra.Visitors)
}

// AddTo adds d to r: its counters, and its visitors to r's sketch, which
// it makes if r has none. r.Counts may be nil.
func (d *Delta) AddTo(r *Record) error {
	if r.Counts == nil {
		r.Counts = make(map[Metric]uint64, 4)
	}
	for m, n := range d.Counters() {
		r.Counts[m] += n
	}
	if !d.HasVisitors() {
		return nil
	}
	if r.Visitors == nil {
		r.Visitors = hyperloglog.New14()
	}
	if err := d.AddVisitorsTo(r.Visitors); err != nil {
		return fmt.Errorf("merge the visitors of %s on %s: %w", d.Code, d.Day, err)
	}
	return nil
}

// events returns the sum of d's counters: the events it stands for.
func (d *Delta) events() int64 {
	var n uint64
	for _, c := range d.Counters() {
		n += c
	}
	return int64(n)
}

// add counts n under m.
func (t *tally) add(m Metric, n uint64) {
	if id, ok := counterIDs.idOf(m); ok {
		t.addID(id, n)
		return
	}
	t.extraRecord().Counts[m] += n
}

// addID counts n under the counter of id.
func (t *tally) addID(id counterID, n uint64) {
	for i := range t.used {
		if t.metrics[i] == id {
			t.counts[i] += n
			return
		}
	}
	if t.used < tallySlots {
		t.metrics[t.used], t.counts[t.used] = id, n
		t.used++
		return
	}
	t.extraRecord().Counts[counterIDs.name(id)] += n
}

func (t *tally) extraRecord() *Record {
	if t.extra == nil {
		t.extra = &Record{Counts: make(map[Metric]uint64, 4)}
	}
	return t.extra
}

// addVisitor adds a visitor ID, of which it keeps only what the sketch
// would (see sketchBits).
func (t *tally) addVisitor(v uint64) {
	v = sketchBits(v)
	if t.extra != nil && t.extra.Visitors != nil {
		t.extra.Visitors.InsertHash(v)
		return
	}
	for _, seen := range t.visitors[:t.nVisitors] {
		if seen == v {
			return
		}
	}
	if t.nVisitors < exactVisitors {
		t.visitors[t.nVisitors] = v
		t.nVisitors++
		return
	}
	t.sketch().InsertHash(v)
}

// Of a 64-bit visitor ID, a sketch of precision 14 keeps the top 25 bits
// and the number of leading zeros of the other 39 (axiomhq/hyperloglog's
// sparse encoding; the dense one keeps less). sketchBits keeps the same
// and clears the rest, so that what holds deltas as they are (the click
// queues, a store's log) tells no more of a visitor than a sketch does:
// with the day's salt, a whole ID would single out an address among all
// of IPv4. A sketch fed sketchBits(v) is the same as one fed v.
func sketchBits(v uint64) uint64 {
	const low = 1<<39 - 1
	rest := v & low
	if rest != 0 {
		rest = 1 << (bits.Len64(rest) - 1)
	}
	return v&^low | rest
}

// sketch moves the exact visitors into extra's sketch, and returns it.
func (t *tally) sketch() *hyperloglog.Sketch {
	e := t.extraRecord()
	if e.Visitors == nil {
		e.Visitors = hyperloglog.New14()
	}
	for _, v := range t.visitors[:t.nVisitors] {
		e.Visitors.InsertHash(v)
	}
	t.nVisitors = 0
	return e.Visitors
}

// merge adds o into t; o is not changed.
func (t *tally) merge(o *tally) {
	for i := range o.used {
		t.addID(o.metrics[i], o.counts[i])
	}
	for _, v := range o.visitors[:o.nVisitors] {
		t.addVisitor(v)
	}
	if o.extra == nil {
		return
	}
	for m, n := range o.extra.Counts {
		t.add(m, n)
	}
	if o.extra.Visitors != nil {
		// One precision for every sketch: Merge cannot fail.
		_ = t.sketch().Merge(o.extra.Visitors)
	}
}

// clone returns a copy of t that shares nothing with it.
func (t *tally) clone() tally {
	c := *t
	if t.extra != nil {
		c.extra = &Record{Counts: maps.Clone(t.extra.Counts)}
		if t.extra.Visitors != nil {
			c.extra.Visitors = t.extra.Visitors.Clone()
		}
	}
	return c
}

// errDelta is the error of bytes UnmarshalBinary cannot read.
var errDelta = errors.New("malformed delta")

// AppendBinary appends d's counts, not its DayKey, to b: the number of
// counters, each as (name length, name, value), the number of exact
// visitor IDs, each as 8 bytes big-endian, then the sketch of the others
// in its own binary form (possibly empty). Uvarints but for the IDs.
func (d *Delta) AppendBinary(b []byte) ([]byte, error) {
	t := &d.t
	n := int(t.used)
	if t.extra != nil {
		n += len(t.extra.Counts)
	}
	b = binary.AppendUvarint(b, uint64(n))
	for m, v := range d.Counters() {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(t.nVisitors))
	for _, v := range t.visitors[:t.nVisitors] {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	if t.extra == nil || t.extra.Visitors == nil {
		return b, nil
	}
	b, err := t.extra.Visitors.AppendBinary(b)
	if err != nil {
		return nil, fmt.Errorf("encode sketch: %w", err)
	}
	return b, nil
}

// UnmarshalBinary replaces d's counts, not its DayKey, by what
// AppendBinary wrote. It keeps nothing of data.
func (d *Delta) UnmarshalBinary(data []byte) error {
	var t tally
	count, w := binary.Uvarint(data)
	if w <= 0 || count > uint64(len(data)) {
		return errDelta
	}
	data = data[w:]
	for range count {
		l, w := binary.Uvarint(data)
		if w <= 0 || l > uint64(len(data)-w) {
			return errDelta
		}
		name := data[w : w+int(l)]
		data = data[w+int(l):]
		v, w := binary.Uvarint(data)
		if w <= 0 {
			return errDelta
		}
		data = data[w:]
		switch id, ok := counterIDs.lookup(name); {
		case v == 0 || string(name) == string(Uniques): // never written
		case ok: // a million deltas name the same few counters: no string for them
			t.addID(id, v)
		default:
			t.add(Metric(name), v)
		}
	}
	n, w := binary.Uvarint(data)
	if w <= 0 || n > exactVisitors || uint64(len(data)-w) < 8*n {
		return errDelta
	}
	data = data[w:]
	for range n {
		t.addVisitor(binary.BigEndian.Uint64(data))
		data = data[8:]
	}
	if len(data) > 0 {
		var sk hyperloglog.Sketch
		if err := sk.UnmarshalBinary(data); err != nil {
			return fmt.Errorf("%w: sketch: %v", errDelta, err)
		}
		if err := t.sketch().Merge(&sk); err != nil {
			return fmt.Errorf("%w: sketch: %v", errDelta, err)
		}
	}
	d.t = t
	return nil
}
