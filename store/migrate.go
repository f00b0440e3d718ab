package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/axiomhq/hyperloglog"
	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/stats"
)

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
