package stats

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/axiomhq/hyperloglog"
)

// tally is what is counted in memory of one link on one day, before it is
// folded into a Record on disk. With clicks spread over a million links,
// most link-days in memory hold a click or two from one visitor, and there
// are a million of them: a tally keeps those in one allocation, with the
// visitors' IDs as they are. A map of counters and a sketch, as a Record
// holds, cost several allocations and a sketch encoding at every flush.
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
		t.extra = newRecord()
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
// and clears the rest, so that the log and checkpoints, which hold a
// tally's visitors as they are, tell no more of a visitor than a sketch in
// the day records does: with the day's salt, a whole ID would single out
// an address among all of IPv4. A sketch fed sketchBits(v) is the same as
// one fed v.
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
func (t *tally) clone() *tally {
	c := *t
	if t.extra != nil {
		c.extra = t.extra.clone()
	}
	return &c
}

// events returns the sum of t's counters.
func (t *tally) events() int64 {
	var n uint64
	for _, c := range t.counts[:t.used] {
		n += c
	}
	if t.extra != nil {
		for _, c := range t.extra.Counts {
			n += c
		}
	}
	return int64(n)
}

// addTo adds t into r; t is not changed.
func (t *tally) addTo(r *Record) error {
	for i := range t.used {
		r.Counts[counterIDs.name(t.metrics[i])] += t.counts[i]
	}
	if t.nVisitors > 0 {
		if r.Visitors == nil {
			r.Visitors = hyperloglog.New14()
		}
		for _, v := range t.visitors[:t.nVisitors] {
			r.Visitors.InsertHash(v)
		}
	}
	if t.extra == nil {
		return nil
	}
	return r.add(t.extra)
}

// record returns t as a new Record.
func (t *tally) record() *Record {
	r := newRecord()
	_ = t.addTo(r) // r has no sketch yet, or one of the same precision
	return r
}

// countsInto adds t's counters to counts, with its unique visitors as
// Uniques.
func (t *tally) countsInto(counts map[Metric]uint64) {
	for i := range t.used {
		counts[counterIDs.name(t.metrics[i])] += t.counts[i]
	}
	if t.nVisitors > 0 {
		counts[Uniques] += uint64(t.nVisitors)
	}
	if t.extra == nil {
		return
	}
	for m, n := range t.extra.Counts {
		counts[m] += n
	}
	if t.extra.Visitors != nil {
		counts[Uniques] += t.extra.Visitors.Estimate()
	}
}

// tallyFormat marks a tally in the log and checkpoints: the counters as a
// Record has them, then the exact visitors, then the sketch (possibly
// empty).
const tallyFormat = 3

func (t *tally) appendBinary(b []byte) ([]byte, error) {
	b = append(b, tallyFormat)
	n := int(t.used)
	if t.extra != nil {
		n += len(t.extra.Counts)
	}
	b = binary.AppendUvarint(b, uint64(n))
	counter := func(m Metric, n uint64) {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
		b = binary.AppendUvarint(b, n)
	}
	for i := range t.used {
		counter(counterIDs.name(t.metrics[i]), t.counts[i])
	}
	if t.extra != nil {
		for m, n := range t.extra.Counts {
			counter(m, n)
		}
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

// decodeTally reads what appendBinary wrote.
func decodeTally(data []byte) (*tally, error) {
	if len(data) == 0 || data[0] != tallyFormat {
		return nil, errRecord
	}
	t := &tally{}
	rest, err := readCounterList(data[1:], func(name []byte, v uint64) {
		// A million tallies name the same few counters: no string for a
		// name already interned.
		if id, ok := counterIDs.lookup(name); ok {
			t.addID(id, v)
			return
		}
		t.add(Metric(name), v)
	})
	if err != nil {
		return nil, err
	}
	n, w := binary.Uvarint(rest)
	if w <= 0 || n > exactVisitors || uint64(len(rest)-w) < 8*n {
		return nil, errRecord
	}
	rest = rest[w:]
	for range n {
		t.addVisitor(binary.BigEndian.Uint64(rest))
		rest = rest[8:]
	}
	if len(rest) == 0 {
		return t, nil
	}
	var sk hyperloglog.Sketch
	if err := sk.UnmarshalBinary(rest); err != nil {
		return nil, fmt.Errorf("%w: sketch: %v", errRecord, err)
	}
	return t, t.sketch().Merge(&sk)
}
