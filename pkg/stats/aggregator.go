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
}

type shard struct {
	mu     sync.Mutex
	counts map[Key]uint64
	_      [40]byte // keep shards on separate cache lines
}

type flushFailure struct {
	at  time.Time
	err error
}

// NewAggregator returns an Aggregator that flushes into store.
func NewAggregator(store Store, log *slog.Logger) *Aggregator {
	a := &Aggregator{store: store, seed: maphash.MakeSeed(), log: log}
	for i := range a.shards {
		a.shards[i].counts = make(map[Key]uint64)
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

	batch, events := a.takePending()
	if len(batch) == 0 {
		a.lastError.Store(nil)
		return nil
	}
	if err := a.store.AddCounts(ctx, batch); err != nil {
		a.restore(batch)
		err = fmt.Errorf("flush %d counters: %w", len(batch), err)
		a.lastError.Store(&flushFailure{at: time.Now(), err: err})
		return err
	}
	a.pending.Add(-events)
	a.lastError.Store(nil)
	return nil
}

func (a *Aggregator) takePending() (batch []Count, events int64) {
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		taken := s.counts
		if len(taken) > 0 {
			s.counts = make(map[Key]uint64, len(taken))
		}
		s.mu.Unlock()
		for k, n := range taken {
			batch = append(batch, Count{Key: k, N: n})
			events += int64(n)
		}
	}
	// Keys in order make the store's B-tree writes sequential.
	slices.SortFunc(batch, func(x, y Count) int { return compareKeys(x.Key, y.Key) })
	return batch, events
}

func (a *Aggregator) restore(batch []Count) {
	for _, c := range batch {
		s := a.shardOf(c.Code)
		s.mu.Lock()
		s.counts[c.Key] += c.N
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

// Run flushes every interval until ctx is done. It does not flush on return:
// the owner calls Flush once more after it has stopped taking requests.
func (a *Aggregator) Run(ctx context.Context, interval time.Duration) {
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
	s := a.shardOf(code)
	s.mu.Lock()
	for k, n := range s.counts {
		if k.Code == code {
			add(k, n)
		}
	}
	s.mu.Unlock()

	for d, counts := range byDay {
		sum.Days = append(sum.Days, DayCounts{Day: d, Counts: counts})
	}
	slices.SortFunc(sum.Days, func(x, y DayCounts) int { return int(x.Day - y.Day) })
	return sum, nil
}
