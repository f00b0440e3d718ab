package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

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

// AppendLog implements stats.Store: one put under the next sequence number,
// at the end of the B-tree.
func (db *DB) AppendLog(_ context.Context, data []byte) (uint64, error) {
	var seq uint64
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLog)
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), data)
	})
	return seq, err
}

// Log implements stats.Store.
func (db *DB) Log(_ context.Context) ([]stats.LogEntry, error) {
	var out []stats.LogEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLog).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("malformed log key %x", k)
			}
			out = append(out, stats.LogEntry{Seq: binary.BigEndian.Uint64(k), Data: bytes.Clone(v)})
			return nil
		})
	})
	return out, err
}

// Checkpoints implements stats.Store.
func (db *DB) Checkpoints(_ context.Context) ([]stats.Checkpoint, error) {
	var out []stats.Checkpoint
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketChecks).ForEach(func(k, v []byte) error {
			if len(k) != 4 || len(v) < 8 {
				return fmt.Errorf("malformed checkpoint %x", k)
			}
			out = append(out, stats.Checkpoint{
				Part: int(binary.BigEndian.Uint32(k)), Seq: binary.BigEndian.Uint64(v), Data: bytes.Clone(v[8:]),
			})
			return nil
		})
	})
	return out, err
}

// Fold implements stats.Store: one transaction, all or nothing, one put per
// link and day, the checkpoint, and the log entries it cuts deleted.
func (db *DB) Fold(_ context.Context, merges []stats.Merge, cp stats.Checkpoint, cutLog uint64) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := mergeDays(tx, merges); err != nil {
			return err
		}
		v := append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(cp.Data)), cp.Seq), cp.Data...)
		if err := tx.Bucket(bucketChecks).Put(binary.BigEndian.AppendUint32(nil, uint32(cp.Part)), v); err != nil {
			return fmt.Errorf("put checkpoint %d: %w", cp.Part, err)
		}
		c := tx.Bucket(bucketLog).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= cutLog; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return fmt.Errorf("delete a log entry: %w", err)
			}
		}
		return nil
	})
}

func mergeDays(tx *bolt.Tx, merges []stats.Merge) error {
	b := tx.Bucket(bucketDays)
	for _, m := range merges {
		k := dayKey(m.DayKey)
		// Apply decodes what it reads, so the page memory is not kept.
		v, err := m.Apply(b.Get(k))
		if err != nil {
			return fmt.Errorf("merge the record of %s on %s: %w", m.Code, m.Day, err)
		}
		if err := b.Put(k, v); err != nil {
			return fmt.Errorf("put the record of %s: %w", m.Code, err)
		}
	}
	return nil
}

// Records implements stats.Store with one lookup per day of the period.
func (db *DB) Records(_ context.Context, code string, period stats.Period) ([]stats.StoredRecord, error) {
	var out []stats.StoredRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDays)
		for day := period.From; day <= period.To; day++ {
			if v := b.Get(dayKey(stats.DayKey{Code: code, Day: day})); v != nil {
				out = append(out, stats.StoredRecord{Day: day, Data: bytes.Clone(v)})
			}
		}
		return nil
	})
	return out, err
}

// ScanDay implements stats.Store: one run of keys, read in one transaction.
func (db *DB) ScanDay(ctx context.Context, day stats.Day, fn func(key string, data []byte) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		prefix := binary.BigEndian.AppendUint32(nil, uint32(day))
		c := tx.Bucket(bucketDays).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(string(k[len(prefix):]), v); err != nil {
				return err
			}
		}
		return nil
	})
}
