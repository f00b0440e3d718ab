package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/axiomhq/hyperloglog"
	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/stats"
)

// dayKey is the day as a big-endian uint32, then the code. Day first puts
// every record of a day in one run of keys at the end of the B-tree, so a
// fold's new records are appended to a few pages instead of dirtying one
// page per link across the whole file (measured at 1M links: see
// docs/PERFORMANCE.md), and a report over a period reads one run per day.
func dayKey(k stats.DayKey) []byte {
	b := make([]byte, 0, 4+len(k.Code))
	b = binary.BigEndian.AppendUint32(b, uint32(k.Day))
	return append(b, k.Code...)
}

// recordFormat is the first byte of a day record. A record is then the
// sketch's estimate plus one (0 without a sketch), so that a scan reads
// counters without decoding sketches (a dense one takes 80 µs); the
// number of counters, each as (name length, name, value), all uvarints;
// then the sketch's own binary form (possibly empty).
const recordFormat = 1

var errRecord = errors.New("malformed day record")

func encodeRecord(r *stats.Record) ([]byte, error) {
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

// decodeRecord reads what encodeRecord wrote. It copies what it keeps, so
// data may be a transaction's memory.
func decodeRecord(data []byte) (stats.Record, error) {
	r := stats.Record{Counts: make(map[stats.Metric]uint64, 4)}
	_, sketch, err := readCounters(data, func(name []byte, v uint64) { r.Counts[stats.Metric(name)] += v })
	if err != nil {
		return stats.Record{}, err
	}
	if len(sketch) > 0 {
		r.Visitors = new(hyperloglog.Sketch)
		if err := r.Visitors.UnmarshalBinary(sketch); err != nil {
			return stats.Record{}, fmt.Errorf("%w: sketch: %v", errRecord, err)
		}
	}
	return r, nil
}

// decodeCounts reads a record's counters into counts, with the unique
// visitors as Uniques, without decoding its sketch. names turns counter
// names into Metrics without allocating for the names seen before.
func decodeCounts(data []byte, counts map[stats.Metric]uint64, names map[string]stats.Metric) error {
	estimate, _, err := readCounters(data, func(name []byte, v uint64) {
		m, ok := names[string(name)]
		if !ok {
			m = stats.Metric(name)
			names[string(m)] = m
		}
		counts[m] += v
	})
	if err != nil {
		return err
	}
	if estimate > 0 {
		counts[stats.Uniques] += estimate - 1
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
	count, n := binary.Uvarint(data)
	if n <= 0 || count > uint64(len(data)) {
		return 0, nil, errRecord
	}
	data = data[n:]
	for range count {
		l, n := binary.Uvarint(data)
		if n <= 0 || l > uint64(len(data)-n) {
			return 0, nil, errRecord
		}
		name := data[n : n+int(l)]
		data = data[n+int(l):]
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, nil, errRecord
		}
		counter(name, v)
		data = data[n:]
	}
	return estimate, data, nil
}

// withUniques sets Uniques in r.Counts from r's sketch, and returns them.
func withUniques(r *stats.Record) map[stats.Metric]uint64 {
	if r.Counts == nil {
		r.Counts = make(map[stats.Metric]uint64, 1)
	}
	if r.Visitors != nil {
		r.Counts[stats.Uniques] = r.Visitors.Estimate()
	}
	return r.Counts
}

// foldDays adds the unfolded counts of a partition to the day records, in
// key order, which keeps the B-tree's writes together.
func foldDays(tx *bolt.Tx, unfolded run) error {
	keys := make([][]byte, len(unfolded))
	order := make([]int, len(unfolded))
	for i := range unfolded {
		keys[i], order[i] = dayKey(unfolded[i].DayKey), i
	}
	slices.SortFunc(order, func(x, y int) int { return bytes.Compare(keys[x], keys[y]) })
	b := tx.Bucket(bucketDays)
	for _, i := range order {
		var r stats.Record
		if v := b.Get(keys[i]); v != nil {
			var err error
			// decodeRecord copies: the page's memory is not kept.
			if r, err = decodeRecord(v); err != nil {
				return fmt.Errorf("the record of %s on %s: %w", unfolded[i].Code, unfolded[i].Day, err)
			}
		}
		if err := unfolded[i].AddTo(&r); err != nil {
			return err
		}
		v, err := encodeRecord(&r)
		if err != nil {
			return err
		}
		if err := b.Put(keys[i], v); err != nil {
			return fmt.Errorf("put the record of %s on %s: %w", unfolded[i].Code, unfolded[i].Day, err)
		}
	}
	return nil
}

// Records implements stats.Store: one lookup per day of the period, plus
// the counts not folded yet.
func (db *DB) Records(_ context.Context, code string, period stats.Period) ([]stats.DayRecord, error) {
	if err := db.LoadCounts(); err != nil {
		return nil, err
	}
	c := &db.counts
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []stats.DayRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDays)
		for day := period.From; day <= period.To; day++ {
			if v := b.Get(dayKey(stats.DayKey{Code: code, Day: day})); v != nil {
				r, err := decodeRecord(v)
				if err != nil {
					return fmt.Errorf("the record of %s on %s: %w", code, day, err)
				}
				out = append(out, stats.DayRecord{Day: day, Record: r})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, r := range c.parts[partitionOf(code)].runs {
		for d := range r.find(code, period) {
			i, found := slices.BinarySearchFunc(out, d.Day, func(r stats.DayRecord, day stats.Day) int { return int(r.Day) - int(day) })
			if !found {
				out = slices.Insert(out, i, stats.DayRecord{Day: d.Day})
			}
			errs = append(errs, d.AddTo(&out[i].Record))
		}
	}
	return out, errors.Join(errs...)
}

// Scan implements stats.Store: one run of keys per day, read in one
// transaction, merged with the counts not folded yet.
func (db *DB) Scan(ctx context.Context, period stats.Period, fn func(stats.KeyCounts) error) error {
	if err := db.LoadCounts(); err != nil {
		return err
	}
	c := &db.counts
	c.mu.RLock()
	defer c.mu.RUnlock()
	unfolded := c.unfoldedIn(period)
	counts, names := make(map[stats.Metric]uint64, 16), make(map[string]stats.Metric)
	return db.bolt.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketDays).Cursor()
		for day := period.From; day <= period.To; day++ {
			mem := unfolded[day]
			// emit hands fn the stored record v (nil if none) and the
			// unfolded deltas of its key, mem[:n].
			emit := func(code string, v []byte, n int) error {
				if n == 0 { // most records: counters only, no sketch to merge
					clear(counts)
					if err := decodeCounts(v, counts, names); err != nil {
						return fmt.Errorf("the record of %s on %s: %w", code, day, err)
					}
					return fn(stats.KeyCounts{Key: code, Day: day, Counts: counts})
				}
				var r stats.Record
				if v != nil {
					var err error
					if r, err = decodeRecord(v); err != nil {
						return fmt.Errorf("the record of %s on %s: %w", code, day, err)
					}
				}
				for _, d := range mem[:n] {
					if err := d.AddTo(&r); err != nil {
						return err
					}
				}
				mem = mem[n:]
				return fn(stats.KeyCounts{Key: code, Day: day, Counts: withUniques(&r)})
			}
			prefix := binary.BigEndian.AppendUint32(nil, uint32(day))
			for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				code := k[len(prefix):]
				for len(mem) > 0 && mem[0].Code < string(code) {
					if err := emit(mem[0].Code, nil, sameKey(mem)); err != nil {
						return err
					}
				}
				n := 0
				if len(mem) > 0 && mem[0].Code == string(code) {
					n = sameKey(mem)
				}
				if err := emit(string(code), v, n); err != nil {
					return err
				}
			}
			for len(mem) > 0 {
				if err := emit(mem[0].Code, nil, sameKey(mem)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// sameKey returns how many deltas at the start of mem have the code of
// the first.
func sameKey(mem []*stats.Delta) int {
	n := 1
	for n < len(mem) && mem[n].Code == mem[0].Code {
		n++
	}
	return n
}
