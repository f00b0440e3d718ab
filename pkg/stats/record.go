package stats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"

	"github.com/axiomhq/hyperloglog"
)

// DayKey names everything counted for one link on one day: the unit the
// store writes, one key each, so that a flush costs one B-tree write per
// link and day touched rather than one per counter.
type DayKey struct {
	Code string
	Day  Day
}

// Record is what is known of one link on one day.
type Record struct {
	Counts   map[Metric]uint64
	Visitors *hyperloglog.Sketch // nil when no visitor was seen
}

func newRecord() *Record { return &Record{Counts: make(map[Metric]uint64, 4)} }

// add adds o into r. o is not changed.
func (r *Record) add(o *Record) error {
	for m, n := range o.Counts {
		r.Counts[m] += n
	}
	if o.Visitors == nil {
		return nil
	}
	if r.Visitors == nil {
		r.Visitors = o.Visitors.Clone()
		return nil
	}
	return r.Visitors.Merge(o.Visitors)
}

// recordFormat is the first byte of an encoded record. A record holds the
// sketch's estimate, so that reports over many records read counters
// without decoding sketches.
const recordFormat = 1

// EncodeRecord returns r in the store's binary form: a format byte, the
// sketch's estimate plus one (0 without a sketch), the number of counters,
// each as (name length, name, value), all in uvarints, then the sketch's own
// binary form (possibly empty).
func EncodeRecord(r *Record) ([]byte, error) {
	b := []byte{recordFormat}
	var estimate uint64
	if r.Visitors != nil {
		estimate = r.Visitors.Estimate() + 1
	}
	b = binary.AppendUvarint(b, estimate)
	b = binary.AppendUvarint(b, uint64(len(r.Counts)))
	for m, n := range r.Counts {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
		b = binary.AppendUvarint(b, n)
	}
	if r.Visitors == nil {
		return b, nil
	}
	b, err := r.Visitors.AppendBinary(b)
	if err != nil {
		return nil, fmt.Errorf("encode sketch: %w", err)
	}
	return b, nil
}

var errRecord = errors.New("malformed day record")

// DecodeRecord reads what EncodeRecord wrote. It copies what it keeps, so
// data may be memory the caller reuses.
func DecodeRecord(data []byte) (*Record, error) {
	r := &Record{Counts: make(map[Metric]uint64, 4)}
	_, sketch, err := readCounters(data, func(name []byte, v uint64) { r.Counts[Metric(name)] = v })
	if err != nil {
		return nil, err
	}
	if len(sketch) > 0 {
		r.Visitors = new(hyperloglog.Sketch)
		if err := r.Visitors.UnmarshalBinary(sketch); err != nil {
			return nil, fmt.Errorf("%w: sketch: %v", errRecord, err)
		}
	}
	return r, nil
}

// decodeCounts reads a record's counters into counts, with the unique
// visitors as Uniques, without decoding its sketch when the record holds
// the estimate. names turns counter names into Metrics without allocating
// for the names seen before.
func decodeCounts(data []byte, counts map[Metric]uint64, names map[string]Metric) error {
	estimate, _, err := readCounters(data, func(name []byte, v uint64) {
		m, ok := names[string(name)]
		if !ok {
			m = Metric(name)
			names[string(m)] = m
		}
		counts[m] += v
	})
	if err != nil {
		return err
	}
	if estimate > 0 {
		counts[Uniques] += estimate - 1
	}
	return nil
}

// readCounters calls counter with each counter of an encoded record, and
// returns the stored estimate plus one (0 if none) and the sketch's bytes.
func readCounters(data []byte, counter func(name []byte, v uint64)) (estimate uint64, sketch []byte, err error) {
	if len(data) == 0 || data[0] != recordFormat {
		return 0, nil, errRecord
	}
	data = data[1:]
	var n int
	if estimate, n = binary.Uvarint(data); n <= 0 {
		return 0, nil, errRecord
	}
	data = data[n:]
	sketch, err = readCounterList(data, counter)
	return estimate, sketch, err
}

// readCounterList calls counter with each counter of a list (their number,
// then each as name length, name, value, in uvarints) and returns what
// follows the list.
func readCounterList(data []byte, counter func(name []byte, v uint64)) (rest []byte, err error) {
	count, n := binary.Uvarint(data)
	if n <= 0 || count > uint64(len(data)) {
		return nil, errRecord
	}
	data = data[n:]
	for range count {
		l, n := binary.Uvarint(data)
		if n <= 0 || l > uint64(len(data)-n) {
			return nil, errRecord
		}
		name := data[n : n+int(l)]
		data = data[n+int(l):]
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return nil, errRecord
		}
		counter(name, v)
		data = data[n:]
	}
	return data, nil
}

// clone returns a deep copy of r.
func (r *Record) clone() *Record {
	c := &Record{Counts: maps.Clone(r.Counts)}
	if r.Visitors != nil {
		c.Visitors = r.Visitors.Clone()
	}
	return c
}

// encodeBatch appends pending records to b as one log entry or checkpoint:
// for each, the code's length and bytes, the day, and the tally's length
// and bytes, in uvarints.
func encodeBatch(b []byte, records []pendingRecord) ([]byte, error) {
	var rec []byte
	for i := range records {
		p := &records[i]
		var err error
		if rec, err = p.t.appendBinary(rec[:0]); err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(b, uint64(len(p.Code)))
		b = append(b, p.Code...)
		b = binary.AppendUvarint(b, uint64(uint32(p.Day)))
		b = binary.AppendUvarint(b, uint64(len(rec)))
		b = append(b, rec...)
	}
	return b, nil
}

// decodeBatch reads what encodeBatch wrote.
func decodeBatch(data []byte) ([]pendingRecord, error) {
	var out []pendingRecord
	field := func() ([]byte, bool) {
		l, n := binary.Uvarint(data)
		if n <= 0 || l > uint64(len(data)-n) {
			return nil, false
		}
		f := data[n : n+int(l)]
		data = data[n+int(l):]
		return f, true
	}
	for len(data) > 0 {
		code, ok := field()
		if !ok {
			return nil, errRecord
		}
		day, n := binary.Uvarint(data)
		if n <= 0 || day > 1<<32-1 {
			return nil, errRecord
		}
		data = data[n:]
		rec, ok := field()
		if !ok {
			return nil, errRecord
		}
		t, err := decodeTally(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, pendingRecord{pendingKey: pendingKey{DayKey: DayKey{Code: string(code), Day: Day(uint32(day))}}, t: *t})
	}
	return out, nil
}
