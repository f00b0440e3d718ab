package stats

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Aggregator counts in memory and hands the counts to a Store once per
// flush, summed per link and day, so that recording a click never waits
// on the disk and a flush costs the store one write per link-day, not one
// per click. Reads add the counts in memory to the stored ones, so a click
// shows at once. The package doc says where a count can be.
type Aggregator struct {
	store  Store
	seed   maphash.Seed
	writer uint64
	now    func() time.Time
	parts  [partitionCount]partition

	// flushMu orders flushes against reads: a reader holding it sees every
	// count in exactly one place. It also guards the fields below it.
	flushMu sync.RWMutex
	seq     uint64 // of the last batch
	// held is the batch of a failed flush, to be written again as it is,
	// and heldEvents the number of events it holds; nil and 0 if none.
	held       *Batch
	heldEvents int64
	summing    summing // reused by every flush
	// batchSize is the number of deltas of the last batch: the next one
	// starts with room for as many.
	batchSize int

	pending   atomic.Int64
	lastError atomic.Pointer[flushFailure]
	log       *slog.Logger
	observe   func(time.Duration, error) // set before use; never nil
}

type flushFailure struct {
	at  time.Time
	err error
}

// Option changes an Aggregator that NewAggregator makes.
type Option func(*Aggregator)

// WithClock has the Aggregator read the time from now rather than
// time.Now: the time of a failed flush, and how long a write took.
func WithClock(now func() time.Time) Option { return func(a *Aggregator) { a.now = now } }

// NewAggregator returns an Aggregator that flushes into store. Its batches
// carry a random Writer.
func NewAggregator(store Store, log *slog.Logger, opts ...Option) *Aggregator {
	a := &Aggregator{
		store: store, seed: maphash.MakeSeed(), writer: rand.Uint64(), now: time.Now, log: log,
		observe: func(time.Duration, error) {},
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

func (a *Aggregator) key(code string, day Day) pendingKey {
	return pendingKey{maphash.String(a.seed, code), DayKey{Code: code, Day: day}}
}

func (a *Aggregator) partition(k *pendingKey) *partition {
	return &a.parts[k.hash%partitionCount]
}

// Add counts one event. code must be a string the caller owns (not memory
// borrowed from a request): the store may keep it.
func (a *Aggregator) Add(code string, day Day, m Metric) {
	a.AddMany(code, day, m)
}

// ObserveFlushes has f called after every write to the store, with its
// duration and error. Call it before Run.
func (a *Aggregator) ObserveFlushes(f func(time.Duration, error)) { a.observe = f }

// AddMany counts one event under each of metrics.
func (a *Aggregator) AddMany(code string, day Day, metrics ...Metric) {
	var ids [tallySlots]counterID
	n := 0
	for _, m := range metrics {
		if m == Uniques {
			continue // not a counter
		}
		id, ok := counterIDs.idOf(m)
		if !ok {
			a.addNamed(code, day, m)
			continue
		}
		if n == len(ids) {
			a.count(code, day, ids[:n], 0, false)
			n = 0
		}
		ids[n] = id
		n++
	}
	if n > 0 {
		a.count(code, day, ids[:n], 0, false)
	}
}

// addNamed counts one event under m, which the id table had no room for,
// and an event cannot name: into the partition's sums instead.
func (a *Aggregator) addNamed(code string, day Day, m Metric) {
	k := a.key(code, day)
	p := a.partition(&k)
	p.mu.Lock()
	p.summed.of(&k).add(m, 1)
	p.mu.Unlock()
	a.pending.Add(1)
}

// AddVisitor adds a visitor ID to the unique-visitor sketch of code and day.
// Only the 64-bit ID enters the sketch; a sketch cannot give IDs back.
func (a *Aggregator) AddVisitor(code string, day Day, visitor uint64) {
	a.count(code, day, nil, visitor, true)
}

// count queues one event under each of ids, at most tallySlots of them,
// and, if hasVisitor, visitor: a click does both at once.
func (a *Aggregator) count(code string, day Day, ids []counterID, visitor uint64, hasVisitor bool) {
	// Of the visitor ID, the queue too keeps only what a sketch would.
	ev := event{pendingKey: a.key(code, day), hasVisitor: hasVisitor, visitor: sketchBits(visitor)}
	ev.n = uint8(copy(ev.ids[:], ids))
	p := a.partition(&ev.pendingKey)
	p.mu.Lock()
	p.queue(ev)
	p.mu.Unlock()
	a.pending.Add(int64(ev.n))
}

// Pending returns the number of events not yet written.
func (a *Aggregator) Pending() int64 { return a.pending.Load() }

// Flush writes the batch a failed flush held, if any, then every count
// since the last flush as a new batch. On failure the counts stay in
// memory: a batch that failed is held, to be written again as it is by
// the next flush, and the error is returned and remembered for Healthy.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	if a.held != nil {
		if err := a.apply(ctx, a.held); err != nil {
			return a.failed(fmt.Errorf("write %d day records again: %w", len(a.held.Deltas), err))
		}
		a.pending.Add(-a.heldEvents)
		a.held, a.heldEvents = nil, 0
	}
	b, events := a.take()
	if len(b.Deltas) > 0 {
		if err := a.apply(ctx, &b); err != nil {
			a.held, a.heldEvents = &b, events
			return a.failed(fmt.Errorf("write %d day records: %w", len(b.Deltas), err))
		}
	}
	a.pending.Add(-events)
	a.lastError.Store(nil)
	return nil
}

// take moves every count of the partitions into a new batch, and returns
// it with the number of events it holds; the caller holds flushMu.
func (a *Aggregator) take() (Batch, int64) {
	var events int64
	for i := range a.parts {
		events += a.parts[i].takeInto(&a.summing)
		// Requests share the core with the flush: let them go before the
		// next partition, rather than after the whole flush.
		runtime.Gosched()
	}
	// Not reused: the store may keep the deltas.
	deltas := a.summing.appendSorted(make([]Delta, 0, a.batchSize))
	a.batchSize = len(deltas)
	if len(deltas) == 0 {
		return Batch{}, events
	}
	a.seq++
	return Batch{Writer: a.writer, Seq: a.seq, Deltas: deltas}, events
}

func (a *Aggregator) apply(ctx context.Context, b *Batch) error {
	start := a.now()
	err := a.store.Apply(ctx, *b)
	a.observe(a.now().Sub(start), err)
	return err
}

func (a *Aggregator) failed(err error) error {
	a.lastError.Store(&flushFailure{at: a.now(), err: err})
	return err
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

// ErrPeriod is returned for a period out of order or too long to read.
var ErrPeriod = fmt.Errorf("a period runs from its first day to its last, %d days at most", MaxPeriodDays)

// Summary returns the stored and pending counts of code in period, with the
// unique visitors of each day (Uniques) read from its sketch.
func (a *Aggregator) Summary(ctx context.Context, code string, period Period) (Summary, error) {
	if !period.Valid() {
		return Summary{}, ErrPeriod
	}
	a.flushMu.RLock()
	defer a.flushMu.RUnlock()

	stored, err := a.store.Records(ctx, code, period)
	if err != nil {
		return Summary{}, fmt.Errorf("read records of %s: %w", code, err)
	}
	byDay := make(map[Day]*Record, len(stored))
	for i := range stored {
		byDay[stored[i].Day] = &stored[i].Record
	}
	on := func(day Day) *Record {
		r := byDay[day]
		if r == nil {
			r = &Record{}
			byDay[day] = r
		}
		return r
	}
	if a.held != nil {
		for d := range heldOf(a.held.Deltas, code, period) {
			err = errors.Join(err, d.AddTo(on(d.Day)))
		}
	}
	k := a.key(code, 0)
	for day, t := range a.partition(&k).queuedOf(k.hash, code, period) {
		d := Delta{DayKey: DayKey{Code: code, Day: day}, t: *t}
		err = errors.Join(err, d.AddTo(on(day)))
	}
	if err != nil {
		return Summary{}, fmt.Errorf("merge records of %s: %w", code, err)
	}

	sum := Summary{Totals: make(map[Metric]uint64)}
	for d, r := range byDay {
		counts := r.withUniques()
		for m, n := range counts {
			sum.Totals[m] += n
		}
		sum.Days = append(sum.Days, DayCounts{Day: d, Counts: counts})
	}
	slices.SortFunc(sum.Days, func(x, y DayCounts) int { return int(x.Day - y.Day) })
	return sum, nil
}

// heldOf yields the deltas of code in period among deltas, which are in
// DayKey order.
func heldOf(deltas []Delta, code string, period Period) func(func(*Delta) bool) {
	return func(yield func(*Delta) bool) {
		i, _ := slices.BinarySearchFunc(deltas, DayKey{Code: code, Day: period.From}, func(d Delta, k DayKey) int { return d.DayKey.Compare(k) })
		for ; i < len(deltas) && deltas[i].Code == code && deltas[i].Day <= period.To; i++ {
			if !yield(&deltas[i]) {
				return
			}
		}
	}
}
