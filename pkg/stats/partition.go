package stats

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Counts are split into partitions by code. A click appends an event to
// its partition's queue, and a flush sums the events of each link-day and
// sorts the sums: with clicks spread over a million links, looking each
// click's link-day up in a map, and then each flushed link-day in a map of
// the unfolded ones, was a cache miss or three apiece (docs/PERFORMANCE.md).
//
// A flush's counts then stay in memory, unfolded, as a sorted run of the
// partition. Each flush also takes one more step of a round over the
// partitions: it merges the partition's runs into one, in a single pass,
// and either folds it into the day records if its counts are old enough,
// or else writes it as the partition's checkpoint. A checkpoint stands for
// every log entry before it, so the log is cut after each round and stays
// a round of flushes long, while a day record is written once per
// foldAfter instead of once per round: with clicks spread over a million
// links, that B-tree write is what a click costs.
const (
	partitionCount = 32
	// foldAfter is how long the counts of a partition wait before a fold.
	// Memory does not grow with it as much as it seems: a link-day's
	// counts are merged into one record at every round. At 1M links
	// clicked uniformly, a fold every 1.5 minutes cost 18% of the
	// throughput, every 5.5 minutes about 5% (docs/PERFORMANCE.md).
	foldAfter = 30 * time.Minute
	// maxUnfolded bounds the link-days waiting in memory: past it, every
	// step folds. It is counted in each partition's oldest run, which
	// holds every link-day of the partition once its turn in the round has
	// merged the runs: the runs since then hold a round of flushes' worth
	// (32 flushes of clicks at most), however many links they spread over.
	maxUnfolded = 2_000_000
	// maxQueued bounds a partition's queue of events: past it, the click
	// that fills it sums the queue as a flush would. A flush that hangs (a
	// disk that stops answering) then costs memory per link-day, as it did
	// before counts were queued, not per click.
	maxQueued = 1 << 16
)

// partition holds the counts of the codes whose partitionOf is its index.
type partition struct {
	mu     sync.Mutex
	events []event // counted since the last flush; mu
	summed summing // the same, summed: a full queue, or counters the id table could not name; mu
	spare  []event // the other events buffer, swapped at each flush; flushMu

	// The aggregator's flushMu guards the rest. held is the pending counts
	// a failed flush took; runs are the unfolded counts. checkpointed is
	// the log entry its checkpoint stands for (0: none); dirty tells
	// whether a later entry holds counts of the partition; oldest is when
	// its oldest unfolded count was flushed (zero: none).
	held         run
	runs         []run
	checkpointed uint64
	dirty        bool
	oldest       time.Time
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

// pendingKey is a link-day with the hash of its code, by which runs are
// sorted: comparing hashes, which sit in the run, rather than codes, which
// do not, keeps a merge from a cache miss per record.
type pendingKey struct {
	hash uint64
	DayKey
}

func compareKeys(x, y *pendingKey) int {
	if c := cmp.Compare(x.hash, y.hash); c != 0 {
		return c
	}
	if c := strings.Compare(x.Code, y.Code); c != 0 {
		return c
	}
	return cmp.Compare(x.Day, y.Day)
}

// pendingRecord is the counts of one link-day.
type pendingRecord struct {
	pendingKey
	t tally
}

// A run is records sorted by key, each key once.
type run []pendingRecord

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

func (ev *event) addTo(t *tally) {
	for _, id := range ev.ids[:ev.n] {
		t.addID(id, 1)
	}
	if ev.hasVisitor {
		t.addVisitor(ev.visitor)
	}
}

// takeEvents appends the partition's pending counts, one record per
// link-day in key order, to records, and returns them with the number of
// events they hold. The caller holds flushMu.
func (p *partition) takeEvents(records []pendingRecord, s *summing) ([]pendingRecord, int64) {
	p.mu.Lock()
	events := p.events
	p.events, p.spare = p.spare[:0], nil
	summed := p.summed.appendSorted(nil) // nil but in the rare ways below
	p.mu.Unlock()

	start := len(records)
	n := s.sum(events)
	records = s.appendSorted(records)
	clear(events) // the codes may be let go of
	p.spare = events[:0]
	if len(summed) == 0 && len(p.held) == 0 {
		return records, n
	}
	// The rare ways: a queue that filled up, counters the id table could
	// not name, counts a failed flush left.
	for _, rare := range [...]run{summed, p.held} {
		for i := range rare {
			n += rare[i].t.events()
		}
		records = append(records, rare...)
	}
	p.held = nil
	return append(records[:start], normalize(records[start:])...), n
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

// summing sums events by link-day: the flush's, reused for every
// partition's queue, and each partition's own, for a queue that filled up
// and for counters no event can name. Summing in a map of the link-days,
// then sorting the sums by a 16-byte key, costs a fraction of sorting the
// events themselves (with 1,000 links, a second's 130,000 clicks are 1,000
// link-days; sorting the clicks held requests up for milliseconds) or
// sorting the 104-byte sums. The key repeats compareKeys' order so that a
// comparison reads no sum.
type summing struct {
	index map[groupKey]int // where each link-day is in sums
	sums  []pendingRecord
	order []sortKey
}

type groupKey struct {
	hash uint64
	day  Day
}

type sortKey struct {
	groupKey
	i int32 // in sums
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
		s.index = make(map[groupKey]int)
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
		if j = findRecord(s.sums, k); j < 0 {
			j = s.add(k)
		}
	}
	return &s.sums[j].t
}

func (s *summing) add(k *pendingKey) int {
	s.sums = append(s.sums, pendingRecord{pendingKey: *k})
	s.order = append(s.order, sortKey{groupKey{k.hash, k.Day}, int32(len(s.sums) - 1)})
	return len(s.sums) - 1
}

// appendSorted appends the sums to records in key order, and empties s.
func (s *summing) appendSorted(records []pendingRecord) []pendingRecord {
	slices.SortFunc(s.order, func(x, y sortKey) int {
		if c := cmp.Compare(x.hash, y.hash); c != 0 {
			return c
		}
		if c := strings.Compare(s.sums[x.i].Code, s.sums[y.i].Code); c != 0 {
			return c
		}
		return cmp.Compare(x.day, y.day)
	})
	for _, k := range s.order {
		records = append(records, s.sums[k.i])
	}
	clear(s.index)
	clear(s.sums) // the codes and sketches are the records' now
	s.sums, s.order = s.sums[:0], s.order[:0]
	return records
}

// findRecord returns the index of k's link-day in records, or -1.
func findRecord(records []pendingRecord, k *pendingKey) int {
	for i := range records {
		if r := &records[i]; r.hash == k.hash && r.Day == k.Day && r.Code == k.Code {
			return i
		}
	}
	return -1
}

// normalize sorts records and merges those of one key, in place.
func normalize(records []pendingRecord) run {
	slices.SortFunc(records, func(x, y pendingRecord) int { return compareKeys(&x.pendingKey, &y.pendingKey) })
	out := records[:0]
	for i := range records {
		if last := len(out) - 1; last >= 0 && compareKeys(&out[last].pendingKey, &records[i].pendingKey) == 0 {
			out[last].t.merge(&records[i].t)
			continue
		}
		out = append(out, records[i])
	}
	clear(records[len(out):])
	return out
}

// compact merges the partition's runs into one; the caller holds flushMu.
func (p *partition) compact() run {
	switch len(p.runs) {
	case 0:
		return nil
	case 1:
		return p.runs[0]
	}
	merged := mergeRuns(p.runs)
	clear(p.runs)
	p.runs = append(p.runs[:0], merged)
	return merged
}

// mergeRuns merges runs into a new one, in one pass: a heap of the runs,
// by their next record.
func mergeRuns(runs []run) run {
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
	for len(heads) > 0 {
		next := &heads[0][0]
		if last := len(out) - 1; last >= 0 && compareKeys(&out[last].pendingKey, &next.pendingKey) == 0 {
			out[last].t.merge(&next.t)
		} else {
			out = append(out, *next)
		}
		if heads[0] = heads[0][1:]; len(heads[0]) == 0 {
			heap.Pop(&heads)
		} else {
			heap.Fix(&heads, 0)
		}
	}
	return out
}

// runHeap orders runs by their first record.
type runHeap []run

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	return compareKeys(&h[i][0].pendingKey, &h[j][0].pendingKey) < 0
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(run)) }
func (h *runHeap) Pop() any {
	last := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return last
}

// find calls fn with the records of code in period, in r.
func (r run) find(hash uint64, code string, period Period, fn func(*pendingRecord)) {
	from := pendingKey{hash, DayKey{Code: code, Day: period.From}}
	i, _ := slices.BinarySearchFunc(r, &from, func(x pendingRecord, k *pendingKey) int { return compareKeys(&x.pendingKey, k) })
	for ; i < len(r) && r[i].hash == hash && r[i].Code == code && r[i].Day <= period.To; i++ {
		fn(&r[i])
	}
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

// flushed notes that the partition has unfolded counts since now at the
// latest, not in its checkpoint; the caller holds flushMu.
func (p *partition) flushed(now time.Time) {
	if p.oldest.IsZero() {
		p.oldest = now
	}
	p.dirty = true
}

// linkDays returns about the number of link-days unfolded: at least
// those of each partition's oldest run, which its turn in the round makes
// the merge of them all. The caller holds flushMu.
func (a *Aggregator) linkDays() int {
	n := 0
	for i := range a.parts {
		if runs := a.parts[i].runs; len(runs) > 0 {
			n += len(runs[0])
		}
	}
	return n
}

// step folds or checkpoints the next partition of the round; the caller
// holds flushMu.
func (a *Aggregator) step(ctx context.Context, now time.Time) error {
	i := a.nextPart
	part := &a.parts[i]
	switch {
	case !part.oldest.IsZero() && (now.Sub(part.oldest) >= foldAfter || a.linkDays() > maxUnfolded):
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
	unfolded := part.compact()
	merges := make([]Merge, len(unfolded))
	for j := range unfolded {
		merges[j] = Merge{DayKey: unfolded[j].DayKey, Apply: mergeInto(&unfolded[j].t)}
	}
	// Keys in order make the store's B-tree writes sequential.
	slices.SortFunc(merges, func(x, y Merge) int { return compareDayKeys(x.DayKey, y.DayKey) })
	if err := a.save(ctx, i, merges, nil); err != nil {
		return fmt.Errorf("fold %d day records: %w", len(merges), err)
	}
	part.runs, part.oldest = nil, time.Time{}
	return nil
}

// checkpoint writes the unfolded counts of partition i as its checkpoint.
func (a *Aggregator) checkpoint(ctx context.Context, i int) error {
	unfolded := a.parts[i].compact()
	if err := a.save(ctx, i, nil, unfolded); err != nil {
		return fmt.Errorf("checkpoint %d day records: %w", len(unfolded), err)
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
	var read [partitionCount][]pendingRecord
	unfold := func(records []pendingRecord) {
		for _, r := range records {
			i := partitionOf(r.Code)
			r.hash = a.hash(r.Code)
			read[i] = append(read[i], r)
			a.parts[i].dirty = true
		}
	}
	for _, cp := range checkpoints {
		records, err := decodeCheckpoint(cp)
		if err != nil {
			return fmt.Errorf("decode checkpoint %d: %w", cp.Part, err)
		}
		unfold(records)
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
		unfold(records)
		a.loggedUpTo = max(a.loggedUpTo, e.Seq)
	}
	now := time.Now()
	for i, records := range read {
		if len(records) > 0 {
			a.parts[i].runs = []run{normalize(records)}
			a.parts[i].oldest = now
		}
	}
	return nil
}

// Fold writes every flushed count into the day records now, partition by
// partition.
func (a *Aggregator) Fold(ctx context.Context) error {
	return a.everyPartition(ctx, func(i int) error {
		if a.parts[i].oldest.IsZero() && !a.parts[i].dirty {
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
