package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/axiomhq/hyperloglog"
	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/stats"
)

// migrate brings a db of schema version from up to SchemaVersion, in the
// open transaction.
func migrate(tx *bolt.Tx, from int) error {
	switch {
	case from < 4:
		return migrateToDayRecords(tx) // writes today's key layout directly
	case from < 6:
		return migrateToDayFirstKeys(tx)
	}
	return nil
}

// migrateToDayFirstKeys rewrites the keys of days from code \x00 day, as
// schema 4 and 5 wrote them, to day code.
func migrateToDayFirstKeys(tx *bolt.Tx) error {
	type entry struct{ k, v []byte }
	var moved []entry
	err := tx.Bucket(bucketDays).ForEach(func(k, v []byte) error {
		zero := bytes.IndexByte(k, 0)
		if zero < 0 || len(k) != zero+5 {
			return fmt.Errorf("malformed day key %q", k)
		}
		day := stats.Day(binary.BigEndian.Uint32(k[zero+1:]))
		moved = append(moved, entry{dayKey(stats.DayKey{Code: string(k[:zero]), Day: day}), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketDays); err != nil {
		return err
	}
	days, err := tx.CreateBucket(bucketDays)
	if err != nil {
		return err
	}
	for _, e := range moved {
		if err := days.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// Buckets of schema versions 2 and 3, folded into days by version 4.
var (
	oldBucketCounts  = []byte("counts")  // code \x00 day(uint32 BE) metric -> uint64 BE
	oldBucketUniques = []byte("uniques") // code \x00 day(uint32 BE) "uniques" -> sketch
)

// migrateToDayRecords folds the per-counter keys and per-day sketches of
// schema 3 and before into one record per link and day, in the open
// transaction, and drops the old buckets.
func migrateToDayRecords(tx *bolt.Tx) error {
	records := make(map[string]*stats.Record) // by day key
	get := func(k []byte) (*stats.Record, []byte, error) {
		// The day follows the zero byte that ends the code.
		zero := bytes.IndexByte(k, 0)
		if zero < 0 || len(k) < zero+5 {
			return nil, nil, fmt.Errorf("malformed key %q", k)
		}
		dk := dayKey(stats.DayKey{Code: string(k[:zero]), Day: stats.Day(binary.BigEndian.Uint32(k[zero+1 : zero+5]))})
		r := records[string(dk)]
		if r == nil {
			r = &stats.Record{Counts: map[stats.Metric]uint64{}}
			records[string(dk)] = r
		}
		return r, k[zero+5:], nil
	}
	if b := tx.Bucket(oldBucketCounts); b != nil {
		err := b.ForEach(func(k, v []byte) error {
			r, metric, err := get(k)
			if err != nil || len(v) != 8 {
				return fmt.Errorf("counter %q: %v", k, err)
			}
			r.Counts[stats.Metric(metric)] += binary.BigEndian.Uint64(v)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if b := tx.Bucket(oldBucketUniques); b != nil {
		err := b.ForEach(func(k, v []byte) error {
			r, _, err := get(k)
			if err != nil {
				return err
			}
			r.Visitors = new(hyperloglog.Sketch)
			return r.Visitors.UnmarshalBinary(v)
		})
		if err != nil {
			return err
		}
	}
	days := tx.Bucket(bucketDays)
	for k, r := range records {
		v, err := stats.EncodeRecord(r)
		if err != nil {
			return err
		}
		if err := days.Put([]byte(k), v); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{oldBucketCounts, oldBucketUniques} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	return nil
}
