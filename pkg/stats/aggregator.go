package stats

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axiomhq/hyperloglog"
)

const shardCount = 64

// Aggregator counts in memory and writes the counts to a Store in one
// transaction per flush, so that recording a click never waits on the disk.
// Reads add the pending counts to the stored ones, so a click shows at once.
type Aggregator struct {
	store  Store
	seed   maphash.Seed
	shards [shardCount]shard

	// flushMu orders flushes against reads: a reader holding it sees every
	// count either on disk or pending, never both and never neither.
	flushMu sync.RWMutex

	pending   atomic.Int64
	lastError atomic.Pointer[flushFailure]
	log       *slog.Logger
	metrics   *visitMetrics
	observe   func(time.Duration, error) // set before use; never nil
}

type shard struct {
	mu       sync.Mutex
	counts   map[Key]uint64
	sketches map[Key]*hyperloglog.Sketch // Metric is Uniques
	_        [32]byte                    // keep shards on separate cache lines
}

type flushFailure struct {
	at  time.Time
	err error
}

// NewAggregator returns an Aggregator that flushes into store.
func NewAggregator(store Store, log *slog.Logger) *Aggregator {
	a := &Aggregator{store: store, seed: maphash.MakeSeed(), log: log, metrics: newVisitMetrics(), observe: func(time.Duration, error) {}}
	for i := range a.shards {
		a.shards[i].counts = make(map[Key]uint64)
		a.shards[i].sketches = make(map[Key]*hyperloglog.Sketch)
	}
	return a
}

// Add counts one event. code must be a string the caller owns (not memory
// borrowed from a request), since it is kept until the next flush.
func (a *Aggregator) Add(code string, day Day, m Metric) {
	s := a.shardOf(code)
	s.mu.Lock()
	s.counts[Key{Code: code, Day: day, Metric: m}]++
	s.mu.Unlock()
	a.pending.Add(1)
}

// ObserveFlushes has f called after every flush that wrote something, with
// its duration and error. Call it before Run.
func (a *Aggregator) ObserveFlushes(f func(time.Duration, error)) { a.observe = f }

// AddMany counts one event under each of metrics, taking the lock once.
func (a *Aggregator) AddMany(code string, day Day, metrics ...Metric) {
	s := a.shardOf(code)
	s.mu.Lock()
	for _, m := range metrics {
		s.counts[Key{Code: code, Day: day, Metric: m}]++
	}
	s.mu.Unlock()
	a.pending.Add(int64(len(metrics)))
}

// AddVisitor adds a visitor ID to the unique-visitor sketch of code and day.
// Only the 64-bit ID enters the sketch; a sketch cannot give IDs back.
func (a *Aggregator) AddVisitor(code string, day Day, visitor uint64) {
	k := Key{Code: code, Day: day, Metric: Uniques}
	s := a.shardOf(code)
	s.mu.Lock()
	sk := s.sketches[k]
	if sk == nil {
		sk = hyperloglog.New14()
		s.sketches[k] = sk
	}
	sk.InsertHash(visitor)
	s.mu.Unlock()
}

func (a *Aggregator) shardOf(code string) *shard {
	return &a.shards[maphash.String(a.seed, code)%shardCount]
}

// Pending returns the number of events not yet written.
func (a *Aggregator) Pending() int64 { return a.pending.Load() }

// Flush writes every pending count in one store transaction. On failure the
// counts stay pending, to be retried by the next flush, and the error is
// returned and remembered for Healthy.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	batch, sketches, events := a.takePending()
	if len(batch.Counts) == 0 && len(sketches) == 0 {
		a.lastError.Store(nil)
		return nil
	}
	start := time.Now()
	err := a.store.Write(ctx, batch)
	a.observe(time.Since(start), err)
	if err != nil {
		a.restore(batch.Counts, sketches)
		err = fmt.Errorf("flush %d counters and %d sketches: %w", len(batch.Counts), len(sketches), err)
		a.lastError.Store(&flushFailure{at: time.Now(), err: err})
		return err
	}
	a.pending.Add(-events)
	a.lastError.Store(nil)
	return nil
}

type pendingSketch struct {
	Key
	sketch *hyperloglog.Sketch
}

func (a *Aggregator) takePending() (batch Batch, sketches []pendingSketch, events int64) {
	for i := range a.shards {
		s := &a.shards[i]
		// Only maps swapped out are read after unlocking: an empty map left in
		// place is written by Add meanwhile.
		var counts map[Key]uint64
		var sks map[Key]*hyperloglog.Sketch
		s.mu.Lock()
		if len(s.counts) > 0 {
			counts, s.counts = s.counts, make(map[Key]uint64, len(s.counts))
		}
		if len(s.sketches) > 0 {
			sks, s.sketches = s.sketches, make(map[Key]*hyperloglog.Sketch, len(s.sketches))
		}
		s.mu.Unlock()
		for k, n := range counts {
			batch.Counts = append(batch.Counts, Count{Key: k, N: n})
			events += int64(n)
		}
		for k, sk := range sks {
			sketches = append(sketches, pendingSketch{Key: k, sketch: sk})
		}
	}
	// Keys in order make the store's B-tree writes sequential.
	slices.SortFunc(batch.Counts, func(x, y Count) int { return compareKeys(x.Key, y.Key) })
	slices.SortFunc(sketches, func(x, y pendingSketch) int { return compareKeys(x.Key, y.Key) })
	for _, p := range sketches {
		batch.Sketches = append(batch.Sketches, SketchMerge{Key: p.Key, Merge: mergeInto(p.sketch)})
	}
	return batch, sketches, events
}

// mergeInto returns a merge of delta into stored sketch bytes. It leaves
// delta untouched, so a failed write can put it back.
func mergeInto(delta *hyperloglog.Sketch) func([]byte) ([]byte, error) {
	return func(stored []byte) ([]byte, error) {
		if stored == nil {
			return delta.MarshalBinary()
		}
		var sk hyperloglog.Sketch
		if err := sk.UnmarshalBinary(stored); err != nil {
			return nil, fmt.Errorf("decode stored sketch: %w", err)
		}
		if err := sk.Merge(delta); err != nil {
			return nil, fmt.Errorf("merge sketch: %w", err)
		}
		return sk.MarshalBinary()
	}
}

func (a *Aggregator) restore(counts []Count, sketches []pendingSketch) {
	for _, c := range counts {
		s := a.shardOf(c.Code)
		s.mu.Lock()
		s.counts[c.Key] += c.N
		s.mu.Unlock()
	}
	for _, p := range sketches {
		s := a.shardOf(p.Code)
		s.mu.Lock()
		if cur := s.sketches[p.Key]; cur != nil {
			_ = p.sketch.Merge(cur) // same precision: cannot fail
		}
		s.sketches[p.Key] = p.sketch
		s.mu.Unlock()
	}
}

func compareKeys(x, y Key) int {
	if x.Code != y.Code {
		if x.Code < y.Code {
			return -1
		}
		return 1
	}
	if x.Day != y.Day {
		return int(x.Day - y.Day)
	}
	if x.Metric < y.Metric {
		return -1
	}
	if x.Metric > y.Metric {
		return 1
	}
	return 0
}

// Healthy returns nil, or the error of the last flush if it failed.
func (a *Aggregator) Healthy() error {
	if f := a.lastError.Load(); f != nil {
		return fmt.Errorf("last flush at %s failed: %w", f.at.UTC().Format(time.RFC3339), f.err)
	}
	return nil
}

// Run flushes every interval until ctx is done, then running each of also
// (other state that is saved at the same pace). It does not flush on return:
// the owner calls Flush once more after it has stopped taking requests.
func (a *Aggregator) Run(ctx context.Context, interval time.Duration, also ...func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("flush failed; counts kept in memory for the next try", "err", err, "pending", a.Pending())
			}
			for _, f := range also {
				if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
					a.log.Error("save failed; retried at the next flush", "err", err)
				}
			}
		}
	}
}

// Summary returns the stored and pending counts of code.
func (a *Aggregator) Summary(ctx context.Context, code string) (Summary, error) {
	a.flushMu.RLock()
	defer a.flushMu.RUnlock()

	stored, err := a.store.Counts(ctx, code)
	if err != nil {
		return Summary{}, fmt.Errorf("read counts of %s: %w", code, err)
	}
	byDay := make(map[Day]map[Metric]uint64)
	sum := Summary{Totals: make(map[Metric]uint64)}
	add := func(k Key, n uint64) {
		if byDay[k.Day] == nil {
			byDay[k.Day] = make(map[Metric]uint64)
		}
		byDay[k.Day][k.Metric] += n
		sum.Totals[k.Metric] += n
	}
	for _, c := range stored {
		add(c.Key, c.N)
	}
	visitors, err := a.store.Sketches(ctx, code)
	if err != nil {
		return Summary{}, fmt.Errorf("read sketches of %s: %w", code, err)
	}
	byDaySketch := make(map[Day]*hyperloglog.Sketch, len(visitors))
	for _, v := range visitors {
		sk := new(hyperloglog.Sketch)
		if err := sk.UnmarshalBinary(v.Data); err != nil {
			return Summary{}, fmt.Errorf("decode sketch of %s on %s: %w", code, v.Day, err)
		}
		byDaySketch[v.Day] = sk
	}

	s := a.shardOf(code)
	s.mu.Lock()
	for k, n := range s.counts {
		if k.Code == code {
			add(k, n)
		}
	}
	for k, pending := range s.sketches {
		if k.Code != code {
			continue
		}
		if sk := byDaySketch[k.Day]; sk != nil {
			err = sk.Merge(pending)
		} else {
			byDaySketch[k.Day] = pending.Clone()
		}
	}
	s.mu.Unlock()
	if err != nil {
		return Summary{}, fmt.Errorf("merge sketches of %s: %w", code, err)
	}
	for d, sk := range byDaySketch {
		add(Key{Code: code, Day: d, Metric: Uniques}, sk.Estimate())
	}

	for d, counts := range byDay {
		sum.Days = append(sum.Days, DayCounts{Day: d, Counts: counts})
	}
	slices.SortFunc(sum.Days, func(x, y DayCounts) int { return int(x.Day - y.Day) })
	return sum, nil
}
