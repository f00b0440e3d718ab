package stats

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Flushed counts wait in memory, unfolded, split into partitions by code.
// Each flush takes one more step of a round over the partitions: it folds
// the partition into the day records if its counts are old enough, or else
// writes the partition's counts as its checkpoint. A checkpoint stands for
// every log entry before it, so the log is cut after each round and stays a
// round of flushes long, while a day record is written once per foldAfter
// instead of once per round: with clicks spread over a million links, that
// B-tree write is what a click costs (docs/PERFORMANCE.md).
const (
	partitionCount = 32
	// foldAfter is how long the counts of a partition wait before a fold.
	// Memory does not grow with it as much as it seems: a link-day's tally
	// collects every click of the wait. At 1M links clicked uniformly, a
	// fold every 1.5 minutes cost 18% of the throughput, every 5.5 minutes
	// about 5% (docs/PERFORMANCE.md).
	foldAfter = 30 * time.Minute
	// maxUnfolded bounds the link-days waiting in memory: past it, every
	// step folds.
	maxUnfolded = 2_000_000
)

// partition is the unfolded counts of the codes whose partitionOf is its
// index; the aggregator's flushMu guards it.
type partition struct {
	records map[DayKey]*tally
	// checkpointed is the log entry its checkpoint stands for (0: none);
	// dirty tells whether a later entry holds counts of the partition.
	checkpointed uint64
	dirty        bool
	oldest       time.Time // when its oldest unfolded count was flushed
}

// partitionOf returns the partition of code: FNV-1a, stable from one run
// to the next, since checkpoints on disk are per partition. (maphash is
// seeded per process; hash/fnv would cost a hasher and a []byte per code,
// a million times a fold.)
func partitionOf(code string) int {
	h := uint32(2166136261)
	for i := range len(code) {
		h = (h ^ uint32(code[i])) * 16777619
	}
	return int(h % partitionCount)
}

// unfold merges records, flushed at now, into the partitions; the caller
// holds flushMu.
func (a *Aggregator) unfold(records []pendingRecord, now time.Time) {
	for _, p := range records {
		part := &a.parts[partitionOf(p.Code)]
		if len(part.records) == 0 {
			part.oldest = now
		}
		part.dirty = true
		part.add(p)
	}
}

// add merges p into the partition's tally of its link-day, or keeps p's
// tally as it is.
func (part *partition) add(p pendingRecord) {
	if part.records == nil {
		part.records = make(map[DayKey]*tally)
	}
	if cur := part.records[p.DayKey]; cur != nil {
		cur.merge(p.t)
		return
	}
	part.records[p.DayKey] = p.t
}

// unfolded returns the number of link-days in the partitions.
func (a *Aggregator) unfolded() int {
	n := 0
	for i := range a.parts {
		n += len(a.parts[i].records)
	}
	return n
}

// step folds or checkpoints the next partition of the round; the caller
// holds flushMu.
func (a *Aggregator) step(ctx context.Context, now time.Time) error {
	i := a.nextPart
	part := &a.parts[i]
	switch {
	case len(part.records) > 0 && (now.Sub(part.oldest) >= foldAfter || a.unfolded() > maxUnfolded):
		if err := a.foldPartition(ctx, i); err != nil {
			return err
		}
	case part.dirty:
		if err := a.checkpoint(ctx, i); err != nil {
			return err
		}
	}
	a.nextPart = (i + 1) % partitionCount
	return nil
}

// foldPartition writes the unfolded counts of partition i into the day
// records, with an empty checkpoint, in one transaction. On failure they
// stay unfolded, to be tried again.
func (a *Aggregator) foldPartition(ctx context.Context, i int) error {
	part := &a.parts[i]
	merges := make([]Merge, 0, len(part.records))
	for k, t := range part.records {
		merges = append(merges, Merge{DayKey: k, Apply: mergeInto(t)})
	}
	// Keys in order make the store's B-tree writes sequential.
	slices.SortFunc(merges, func(x, y Merge) int { return compareDayKeys(x.DayKey, y.DayKey) })
	if err := a.save(ctx, i, merges, nil); err != nil {
		return fmt.Errorf("fold %d day records: %w", len(merges), err)
	}
	part.records = nil
	return nil
}

// checkpoint writes the unfolded counts of partition i as its checkpoint.
func (a *Aggregator) checkpoint(ctx context.Context, i int) error {
	part := &a.parts[i]
	records := a.unloaded[:0]
	for k, t := range part.records {
		records = append(records, pendingRecord{DayKey: k, t: t})
	}
	defer func() { a.unloaded = records[:0]; clear(records) }()
	if err := a.save(ctx, i, nil, records); err != nil {
		return fmt.Errorf("checkpoint %d day records: %w", len(records), err)
	}
	return nil
}

// save writes merges and the checkpoint of partition i, standing for every
// log entry so far, and cuts the log entries no partition needs any more.
func (a *Aggregator) save(ctx context.Context, i int, merges []Merge, unfolded []pendingRecord) error {
	data, err := encodeCheckpoint(a.encoded[:0], unfolded)
	if err != nil {
		return err
	}
	a.encoded = data
	cut := a.loggedUpTo
	for j := range a.parts {
		if p := &a.parts[j]; j != i && p.dirty {
			cut = min(cut, p.checkpointed)
		}
	}
	start := time.Now()
	err = a.store.Fold(ctx, merges, Checkpoint{Part: i, Seq: a.loggedUpTo, Data: data}, cut)
	a.observe(time.Since(start), err)
	if err != nil {
		return err
	}
	a.parts[i].checkpointed, a.parts[i].dirty = a.loggedUpTo, false
	return nil
}

// encodeCheckpoint prefixes a batch with the number of partitions, so that
// a binary that splits codes otherwise refuses it instead of miscounting.
func encodeCheckpoint(b []byte, records []pendingRecord) ([]byte, error) {
	return encodeBatch(binary.AppendUvarint(b, partitionCount), records)
}

func decodeCheckpoint(cp Checkpoint) ([]pendingRecord, error) {
	n, w := binary.Uvarint(cp.Data)
	if w <= 0 || n != partitionCount || cp.Part < 0 || cp.Part >= partitionCount {
		return nil, fmt.Errorf("checkpoint %d of %d partitions: this binary keeps %d", cp.Part, n, partitionCount)
	}
	records, err := decodeBatch(cp.Data[w:])
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if partitionOf(r.Code) != cp.Part {
			return nil, fmt.Errorf("checkpoint %d holds %q of partition %d", cp.Part, r.Code, partitionOf(r.Code))
		}
	}
	return records, nil
}

// Open reads back what a previous run flushed but did not fold: every
// checkpoint, then the log entries after each partition's checkpoint. Call
// it once, before anything is recorded.
func (a *Aggregator) Open(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	checkpoints, err := a.store.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("read the checkpoints: %w", err)
	}
	now := time.Now()
	for _, cp := range checkpoints {
		records, err := decodeCheckpoint(cp)
		if err != nil {
			return fmt.Errorf("decode checkpoint %d: %w", cp.Part, err)
		}
		a.unfold(records, now)
		a.parts[cp.Part].checkpointed, a.parts[cp.Part].dirty = cp.Seq, false
		a.loggedUpTo = max(a.loggedUpTo, cp.Seq)
	}
	entries, err := a.store.Log(ctx)
	if err != nil {
		return fmt.Errorf("read the click log: %w", err)
	}
	for _, e := range entries {
		records, err := decodeBatch(e.Data)
		if err != nil {
			return fmt.Errorf("decode click log entry %d: %w", e.Seq, err)
		}
		records = slices.DeleteFunc(records, func(r pendingRecord) bool {
			return e.Seq <= a.parts[partitionOf(r.Code)].checkpointed
		})
		a.unfold(records, now)
		a.loggedUpTo = max(a.loggedUpTo, e.Seq)
	}
	return nil
}

// Fold writes every flushed count into the day records now, partition by
// partition.
func (a *Aggregator) Fold(ctx context.Context) error {
	return a.everyPartition(ctx, func(i int) error {
		if len(a.parts[i].records) == 0 && !a.parts[i].dirty {
			return nil
		}
		return a.foldPartition(ctx, i)
	})
}

// Checkpoint writes the checkpoint of every partition with counts not in
// it, which empties the log. It is what a clean stop does: much quicker
// than a fold when the counts spread over many links.
func (a *Aggregator) Checkpoint(ctx context.Context) error {
	return a.everyPartition(ctx, func(i int) error {
		if !a.parts[i].dirty {
			return nil
		}
		return a.checkpoint(ctx, i)
	})
}

func (a *Aggregator) everyPartition(ctx context.Context, f func(int) error) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	for i := range a.parts {
		if err := f(i); err != nil {
			return a.failed(err)
		}
	}
	return nil
}
