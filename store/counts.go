package store

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/stats"
)

// How the bbolt store keeps counts: a write to a day record is a B-tree
// write, about 15 µs in a file of a million links, so a flush of clicks
// spread over a million links cannot write each link-day it touches. An
// Apply instead appends the batch to the log (one value, sequential keys:
// cheap however many links it touches), and keeps its counts in memory,
// unfolded, as a sorted run of each partition of the codes.
//
// Each Apply, in the same transaction, also takes one step of a round over
// the partitions: it merges the partition's runs, the batch's included,
// into one, in a single pass, and either folds it into the day records if
// its counts are old enough (foldAfter), or else writes it as the
// partition's checkpoint. A checkpoint stands for every log entry up to
// its own, so the log is cut after each round and stays about a round of
// batches long, while a day record is written once per foldAfter instead
// of once per round. LoadCounts reads the checkpoints, then the log entries
// after each partition's checkpoint, back into memory.
//
// So a count that Apply took is in exactly one of: the log or a
// checkpoint, and the runs in memory (the same counts, in two forms until
// a fold); or the day records. Reads (Records, Scan) add the day records
// and the runs, under mu, which every change takes.
const (
	partitionCount = 32
	// foldAfter is how long the counts of a partition wait before a fold.
	// Memory does not grow with it as much as it seems: a link-day's
	// counts are merged into one delta at every round. At 1M links clicked
	// uniformly, a fold every 1.5 minutes cost 18% of the throughput,
	// every 5.5 minutes about 5% (docs/PERFORMANCE.md).
	foldAfter = 30 * time.Minute
	// maxUnfolded bounds the link-days waiting in memory: past it, every
	// step folds. It is counted in each partition's oldest run, which
	// holds every link-day of the partition once its turn in the round has
	// merged the runs: the runs since then hold a round of batches' worth,
	// however many links they spread over.
	maxUnfolded = 2_000_000
)

// counts is the state of the store's counts in memory.
type counts struct {
	now func() time.Time
	// loaded is done once load has run; loadErr is its error. Every
	// method on counts calls LoadCounts first.
	loaded  sync.Once
	loadErr error

	mu    sync.RWMutex
	parts [partitionCount]partition
	// logged is the sequence of the last log entry: the runs stand for
	// every entry up to it.
	logged   uint64
	nextPart int // the next step's
	// applied is the Seq of the last batch of each Writer: batches of a
	// process that stopped are never retried, so memory is enough.
	applied map[uint64]uint64
	// Buffers for a log entry and a checkpoint, as encoded: reused.
	encoded, checkpoint []byte
}

// partition is the unfolded counts of the codes whose partitionOf is its
// index. checkpointed is the log entry its checkpoint stands for (0: none);
// dirty tells whether a later entry holds counts of the partition; oldest
// is when its oldest unfolded count was applied (zero: none).
type partition struct {
	runs         []run
	checkpointed uint64
	dirty        bool
	oldest       time.Time
}

// A run is deltas sorted by DayKey.Compare, each key once.
type run []stats.Delta

func compareDeltas(x, y *stats.Delta) int { return x.DayKey.Compare(y.DayKey) }

// partitionOf returns the partition of code: FNV-1a, stable from one run
// to the next, since checkpoints on disk are per partition. (hash/fnv
// would cost a hasher and a []byte per code, a million times at a load.)
func partitionOf(code string) int {
	h := uint32(2166136261)
	for i := range len(code) {
		h = (h ^ uint32(code[i])) * 16777619
	}
	return int(h % partitionCount)
}

// LoadCounts reads the counts not folded yet (the checkpoints, then the
// log after them) into memory, once: later calls return the first one's
// error. Apply, Records, Scan, Fold and Checkpoint call it; serve calls it
// at start, to fail at once on a damaged log.
func (db *DB) LoadCounts() error {
	db.counts.loaded.Do(func() {
		if err := db.bolt.View(db.counts.load); err != nil {
			db.counts.loadErr = fmt.Errorf("read the click counts not folded yet: %w", err)
		}
	})
	return db.counts.loadErr
}

// Apply implements stats.Store: in one transaction, the batch appended to
// the log, and one step of the round (see above). A batch of a Writer and
// Seq already applied returns nil at once.
func (db *DB) Apply(_ context.Context, b stats.Batch) error {
	if err := db.LoadCounts(); err != nil {
		return err
	}
	c := &db.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.applied[b.Writer]; ok && b.Seq <= last {
		return nil
	}
	if len(b.Deltas) == 0 {
		return nil
	}
	fresh := split(b.Deltas)
	data, err := encodeDeltas(c.encoded[:0], slices.Values(b.Deltas))
	if err != nil {
		return err
	}
	c.encoded = data
	now := c.now()
	i := c.nextPart
	s := c.plan(i, fresh[i], now)
	dirty := func(j int) bool { return c.parts[j].dirty || len(fresh[j]) > 0 }
	var seq uint64
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		log := tx.Bucket(bucketLog)
		var err error
		if seq, err = log.NextSequence(); err != nil {
			return err
		}
		if err := log.Put(binary.BigEndian.AppendUint64(nil, seq), data); err != nil {
			return fmt.Errorf("append to the log: %w", err)
		}
		return c.save(tx, s, seq, dirty)
	})
	if err != nil {
		return fmt.Errorf("apply %d day records: %w", len(b.Deltas), err)
	}
	for j := range fresh {
		if j != i && len(fresh[j]) > 0 {
			p := &c.parts[j]
			p.runs = append(p.runs, fresh[j])
			p.dirty = true
			if p.oldest.IsZero() {
				p.oldest = now
			}
		}
	}
	c.saved(s, seq, now)
	c.applied[b.Writer], c.logged = b.Seq, seq
	c.nextPart = (i + 1) % partitionCount
	return nil
}

// split returns the deltas of each partition as runs: the batch is in
// DayKey order, so is each partition's share. The runs share one array,
// each with its own capacity.
func split(deltas []stats.Delta) (runs [partitionCount]run) {
	var start [partitionCount + 1]int
	parts := make([]uint8, len(deltas))
	for i := range deltas {
		p := partitionOf(deltas[i].Code)
		parts[i] = uint8(p)
		start[p+1]++
	}
	for p := range partitionCount {
		start[p+1] += start[p]
	}
	all := make(run, len(deltas))
	for p := range runs {
		runs[p] = all[start[p]:start[p]:start[p+1]]
	}
	for i := range deltas {
		runs[parts[i]] = append(runs[parts[i]], deltas[i])
	}
	return runs
}

// step is what a step does to one partition: unfolded is its runs merged
// (with a batch's share, for Apply's step).
type step struct {
	part     int
	unfolded run
	fold     bool // into the day records; else a checkpoint
	write    bool // false: the partition has nothing to write
}

// plan returns the step of partition i, with fresh, its share of a batch
// not applied yet; the caller holds mu.
func (c *counts) plan(i int, fresh run, now time.Time) step {
	p := &c.parts[i]
	runs := p.runs
	if len(fresh) > 0 {
		runs = append(slices.Clip(runs), fresh)
	}
	s := step{part: i, unfolded: mergeRuns(runs), write: p.dirty || len(fresh) > 0}
	if !p.oldest.IsZero() && (now.Sub(p.oldest) >= foldAfter || c.linkDays() > maxUnfolded) {
		s.fold, s.write = true, true
	}
	return s
}

// linkDays returns about the number of link-days unfolded: at least
// those of each partition's oldest run, which its turn in the round makes
// the merge of them all. The caller holds mu.
func (c *counts) linkDays() int {
	n := 0
	for i := range c.parts {
		if runs := c.parts[i].runs; len(runs) > 0 {
			n += len(runs[0])
		}
	}
	return n
}

// save writes step s in tx: the partition's counts folded into the day
// records (then an empty checkpoint), or its checkpoint, standing for the
// log up to seq; then it cuts the log entries no partition needs, dirty
// telling which partitions will have counts in the log after seq's.
func (c *counts) save(tx *bolt.Tx, s step, seq uint64, dirty func(int) bool) error {
	if s.write {
		if s.fold {
			if err := foldDays(tx, s.unfolded); err != nil {
				return fmt.Errorf("fold partition %d: %w", s.part, err)
			}
		}
		cp := binary.AppendUvarint(binary.BigEndian.AppendUint64(c.checkpoint[:0], seq), partitionCount)
		if !s.fold {
			var err error
			if cp, err = encodeDeltas(cp, slices.Values(s.unfolded)); err != nil {
				return err
			}
		}
		c.checkpoint = cp
		if err := tx.Bucket(bucketChecks).Put(binary.BigEndian.AppendUint32(nil, uint32(s.part)), cp); err != nil {
			return fmt.Errorf("put checkpoint %d: %w", s.part, err)
		}
	}
	cut := seq
	for j := range c.parts {
		if j != s.part && dirty(j) {
			cut = min(cut, c.parts[j].checkpointed)
		}
	}
	log := tx.Bucket(bucketLog).Cursor()
	for k, _ := log.First(); k != nil && binary.BigEndian.Uint64(k) <= cut; k, _ = log.First() {
		if err := log.Delete(); err != nil {
			return fmt.Errorf("delete a log entry: %w", err)
		}
	}
	return nil
}

// saved updates memory after the transaction of s committed.
func (c *counts) saved(s step, seq uint64, now time.Time) {
	p := &c.parts[s.part]
	switch {
	case !s.write:
		return
	case s.fold:
		p.runs, p.oldest = nil, time.Time{}
	default:
		p.runs = []run{s.unfolded}
		if p.oldest.IsZero() {
			p.oldest = now
		}
	}
	p.checkpointed, p.dirty = seq, false
}

// Fold writes every count not folded yet into the day records now, one
// transaction per partition. Reads give the same counts before and after.
func (db *DB) Fold(context.Context) error {
	return db.everyPartition(func(c *counts, i int) (step, bool) {
		p := &c.parts[i]
		return step{part: i, unfolded: mergeRuns(p.runs), fold: true, write: true}, !p.oldest.IsZero() || p.dirty
	})
}

// Checkpoint writes the checkpoint of every partition with counts not in
// it, which empties the log. It is what a clean stop does: much quicker
// than a fold when the counts spread over many links, and the next Open
// then reads no log.
func (db *DB) Checkpoint(context.Context) error {
	return db.everyPartition(func(c *counts, i int) (step, bool) {
		p := &c.parts[i]
		return step{part: i, unfolded: mergeRuns(p.runs), write: true}, p.dirty
	})
}

// everyPartition saves, one transaction each, the step plan returns for
// each partition it returns true for.
func (db *DB) everyPartition(plan func(*counts, int) (step, bool)) error {
	if err := db.LoadCounts(); err != nil {
		return err
	}
	c := &db.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.parts {
		s, ok := plan(c, i)
		if !ok {
			continue
		}
		dirty := func(j int) bool { return c.parts[j].dirty }
		if err := db.bolt.Update(func(tx *bolt.Tx) error { return c.save(tx, s, c.logged, dirty) }); err != nil {
			return err
		}
		c.saved(s, c.logged, c.now())
	}
	return nil
}

// load reads the checkpoints, then the log entries after each partition's
// checkpoint, into memory. LoadCounts calls it once.
func (c *counts) load(tx *bolt.Tx) error {
	var read [partitionCount][]stats.Delta
	err := tx.Bucket(bucketChecks).ForEach(func(k, v []byte) error {
		if len(k) != 4 || len(v) < 8 {
			return fmt.Errorf("malformed checkpoint %x", k)
		}
		part, seq := binary.BigEndian.Uint32(k), binary.BigEndian.Uint64(v)
		n, w := binary.Uvarint(v[8:])
		if w <= 0 || n != partitionCount || part >= partitionCount {
			return fmt.Errorf("checkpoint %d of %d partitions: this binary keeps %d", part, n, partitionCount)
		}
		c.parts[part].checkpointed, c.logged = seq, max(c.logged, seq)
		return decodeDeltas(v[8+w:], func(d stats.Delta) error {
			if partitionOf(d.Code) != int(part) {
				return fmt.Errorf("checkpoint %d holds %q of partition %d", part, d.Code, partitionOf(d.Code))
			}
			read[part] = append(read[part], d)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the checkpoints: %w", err)
	}
	err = tx.Bucket(bucketLog).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("malformed log key %x", k)
		}
		seq := binary.BigEndian.Uint64(k)
		c.logged = max(c.logged, seq)
		err := decodeDeltas(v, func(d stats.Delta) error {
			if i := partitionOf(d.Code); seq > c.parts[i].checkpointed {
				read[i] = append(read[i], d)
				c.parts[i].dirty = true
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("log entry %d: %w", seq, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	now := c.now()
	for i, deltas := range read {
		if len(deltas) > 0 {
			c.parts[i].runs = []run{normalize(deltas)}
			c.parts[i].oldest = now
		}
		// The round resumes with the partition whose checkpoint is the
		// oldest: the one that keeps the log from being cut. Starting
		// from 0 at each restart, frequent restarts would leave the last
		// partitions unsaved and the log growing.
		if p, next := &c.parts[i], &c.parts[c.nextPart]; p.dirty && (!next.dirty || p.checkpointed < next.checkpointed) {
			c.nextPart = i
		}
	}
	return nil
}

// unfoldedIn returns the unfolded deltas of period by day, each day's in
// code order, those of one key together; the caller holds mu.
func (c *counts) unfoldedIn(period stats.Period) map[stats.Day][]*stats.Delta {
	out := make(map[stats.Day][]*stats.Delta)
	for i := range c.parts {
		for _, r := range c.parts[i].runs {
			for j := range r {
				if d := &r[j]; period.Contains(d.Day) {
					out[d.Day] = append(out[d.Day], d)
				}
			}
		}
	}
	for _, deltas := range out {
		slices.SortFunc(deltas, compareDeltas)
	}
	return out
}

// normalize sorts deltas and merges those of one key, in place.
func normalize(deltas []stats.Delta) run {
	slices.SortFunc(deltas, func(x, y stats.Delta) int { return x.DayKey.Compare(y.DayKey) })
	out := deltas[:0]
	for i := range deltas {
		if last := len(out) - 1; last >= 0 && out[last].DayKey == deltas[i].DayKey {
			out[last].Merge(&deltas[i])
			continue
		}
		out = append(out, deltas[i])
	}
	clear(deltas[len(out):])
	return out
}

// mergeRuns merges runs into one, in one pass: a heap of the runs, by
// their next delta. It changes none of them; one run is returned as it is.
func mergeRuns(runs []run) run {
	switch len(runs) {
	case 0:
		return nil
	case 1:
		return runs[0]
	}
	total := 0
	heads := make(runHeap, 0, len(runs))
	for _, r := range runs {
		total += len(r)
		if len(r) > 0 {
			heads = append(heads, r)
		}
	}
	heap.Init(&heads)
	out := make(run, 0, total)
	// The runs stay as they were, for a write that fails: the last delta
	// of out, a copy of one of theirs, may share its sketch with it until
	// owned.
	owned := false
	for len(heads) > 0 {
		next := &heads[0][0]
		if last := len(out) - 1; last >= 0 && out[last].DayKey == next.DayKey {
			if !owned {
				out[last], owned = out[last].Clone(), true
			}
			out[last].Merge(next)
		} else {
			out, owned = append(out, *next), false
		}
		if heads[0] = heads[0][1:]; len(heads[0]) == 0 {
			heap.Pop(&heads)
		} else {
			heap.Fix(&heads, 0)
		}
	}
	return out
}

// runHeap orders runs by their first delta.
type runHeap []run

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareDeltas(&h[i][0], &h[j][0]) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(run)) }
func (h *runHeap) Pop() any {
	last := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return last
}

// find yields the deltas of code in period, in r.
func (r run) find(code string, period stats.Period) iter.Seq[*stats.Delta] {
	return func(yield func(*stats.Delta) bool) {
		from := stats.DayKey{Code: code, Day: period.From}
		i, _ := slices.BinarySearchFunc(r, from, func(d stats.Delta, k stats.DayKey) int { return d.DayKey.Compare(k) })
		for ; i < len(r) && r[i].Code == code && r[i].Day <= period.To; i++ {
			if !yield(&r[i]) {
				return
			}
		}
	}
}

// encodeDeltas appends deltas to b as one log entry or checkpoint: for
// each, the code's length and bytes, the day, and the delta's length and
// bytes (stats.Delta.AppendBinary), in uvarints.
func encodeDeltas(b []byte, deltas iter.Seq[stats.Delta]) ([]byte, error) {
	var scratch [256]byte
	for d := range deltas {
		rec, err := d.AppendBinary(scratch[:0])
		if err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(b, uint64(len(d.Code)))
		b = append(b, d.Code...)
		b = binary.AppendUvarint(b, uint64(uint32(d.Day)))
		b = binary.AppendUvarint(b, uint64(len(rec)))
		b = append(b, rec...)
	}
	return b, nil
}

var errLog = errors.New("malformed log entry or checkpoint")

// decodeDeltas calls fn with each delta encodeDeltas wrote.
func decodeDeltas(data []byte, fn func(stats.Delta) error) error {
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
			return errLog
		}
		day, n := binary.Uvarint(data)
		if n <= 0 || day > 1<<32-1 {
			return errLog
		}
		data = data[n:]
		rec, ok := field()
		if !ok {
			return errLog
		}
		d := stats.Delta{DayKey: stats.DayKey{Code: string(code), Day: stats.Day(uint32(day))}}
		if err := d.UnmarshalBinary(rec); err != nil {
			return fmt.Errorf("%w: %s on %s: %v", errLog, code, d.Day, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}
