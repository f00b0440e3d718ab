package stats

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Aggregator counts in memory and writes the counts to a Store in one
// transaction per flush, so that recording a click never waits on the disk.
// Reads add the counts in memory to the stored ones, so a click shows at
// once.
//
// Counts live in three places: pending (in memory only, since the last
// flush), unfolded (appended to the store's log by a flush, and kept in
// memory as sorted runs, see partition.go), and folded into the store's
// day records. Each record is written to the day records once for many
// flushes, which is what keeps flushes cheap when clicks spread over a
// million links.
type Aggregator struct {
	store Store
	seed  maphash.Seed
	parts [partitionCount]partition

	// flushMu orders flushes and folds against reads: a reader holding it
	// sees every count in exactly one of the three places. It also guards
	// the fields below it.
	flushMu    sync.RWMutex
	loggedUpTo uint64 // sequence of the last log entry in the unfolded counts
	nextPart   int    // the next step's partition
	// Buffers every flush reuses.
	encoded []byte // a log entry or checkpoint, as encoded
	summing summing
	// batchSize is the number of records the last flush took: the next
	// one's batch starts with room for as many.
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

// NewAggregator returns an Aggregator that flushes into store.
func NewAggregator(store Store, log *slog.Logger) *Aggregator {
	return &Aggregator{
		store: store, seed: maphash.MakeSeed(), log: log,
		observe: func(time.Duration, error) {},
	}
}

func (a *Aggregator) hash(code string) uint64 { return maphash.String(a.seed, code) }

// Add counts one event. code must be a string the caller owns (not memory
// borrowed from a request), since it is kept until its counts are folded.
func (a *Aggregator) Add(code string, day Day, m Metric) {
	a.AddMany(code, day, m)
}

// ObserveFlushes has f called after every write to the store (a flush's
// append or a fold), with its duration and error. Call it before Run.
func (a *Aggregator) ObserveFlushes(f func(time.Duration, error)) { a.observe = f }

// AddMany counts one event under each of metrics.
func (a *Aggregator) AddMany(code string, day Day, metrics ...Metric) {
	var ids [tallySlots]counterID
	n := 0
	for _, m := range metrics {
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
	p := &a.parts[partitionOf(code)]
	k := pendingKey{a.hash(code), DayKey{Code: code, Day: day}}
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
	ev := event{pendingKey: pendingKey{a.hash(code), DayKey{Code: code, Day: day}}, hasVisitor: hasVisitor, visitor: sketchBits(visitor)}
	ev.n = uint8(copy(ev.ids[:], ids))
	p := &a.parts[partitionOf(code)]
	p.mu.Lock()
	p.queue(ev)
	p.mu.Unlock()
	a.pending.Add(int64(ev.n))
}

// Pending returns the number of events not yet written.
func (a *Aggregator) Pending() int64 { return a.pending.Load() }

// Flush appends every pending count to the store's log in one
// transaction, then folds or checkpoints one partition of the unfolded
// counts. On failure the counts stay pending, to be retried by the next
// flush, and the error is returned and remembered for Healthy.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	if err := a.flushPending(ctx); err != nil {
		return a.failed(err)
	}
	if err := a.step(ctx, time.Now()); err != nil {
		return a.failed(err)
	}
	a.lastError.Store(nil)
	return nil
}

func (a *Aggregator) failed(err error) error {
	a.lastError.Store(&flushFailure{at: time.Now(), err: err})
	return err
}

// flushPending appends every pending count to the log, and keeps them as
// a new run of each partition; the caller holds flushMu.
func (a *Aggregator) flushPending(ctx context.Context) error {
	var bounds [partitionCount + 1]int
	// The batch is not reused: its parts become the partitions' runs.
	batch := make([]pendingRecord, 0, a.batchSize)
	var events int64
	for i := range a.parts {
		var n int64
		batch, n = a.parts[i].takeEvents(batch, &a.summing)
		events += n
		bounds[i+1] = len(batch)
		// Requests share the core with the flush: let them go before the
		// next partition, rather than after the whole flush.
		runtime.Gosched()
	}
	a.batchSize = len(batch)
	if len(batch) == 0 {
		return nil
	}
	err := a.appendLog(ctx, batch)
	now := time.Now()
	for i := range a.parts {
		p, taken := &a.parts[i], run(batch[bounds[i]:bounds[i+1]:bounds[i+1]])
		switch {
		case len(taken) == 0:
		case err != nil:
			p.held = taken // for the next flush
		default:
			p.runs = append(p.runs, taken)
			p.flushed(now)
		}
	}
	if err != nil {
		return fmt.Errorf("flush %d day records: %w", len(batch), err)
	}
	a.pending.Add(-events)
	return nil
}

func (a *Aggregator) appendLog(ctx context.Context, records []pendingRecord) error {
	data, err := encodeBatch(a.encoded[:0], records)
	if err != nil {
		return err
	}
	a.encoded = data
	start := time.Now()
	seq, err := a.store.AppendLog(ctx, data)
	a.observe(time.Since(start), err)
	if err != nil {
		return err
	}
	a.loggedUpTo = seq
	return nil
}

// mergeInto returns a merge of delta into a stored record. It leaves delta
// untouched, so a failed write can put it back.
func mergeInto(delta *tally) func([]byte) ([]byte, error) {
	return func(stored []byte) ([]byte, error) {
		if stored == nil { // a new link-day, as most are when clicks spread wide
			return EncodeRecord(delta.record())
		}
		r, err := DecodeRecord(stored)
		if err != nil {
			return nil, err
		}
		if err := delta.addTo(r); err != nil {
			return nil, fmt.Errorf("merge day record: %w", err)
		}
		return EncodeRecord(r)
	}
}

func compareDayKeys(x, y DayKey) int {
	if x.Code != y.Code {
		if x.Code < y.Code {
			return -1
		}
		return 1
	}
	return int(x.Day - y.Day)
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
	for _, sr := range stored {
		r, err := DecodeRecord(sr.Data)
		if err != nil {
			return Summary{}, fmt.Errorf("decode record of %s on %s: %w", code, sr.Day, err)
		}
		byDay[sr.Day] = r
	}
	add := func(day Day, t *tally) {
		if r := byDay[day]; r != nil {
			err = errors.Join(err, t.addTo(r))
		} else {
			byDay[day] = t.record()
		}
	}
	p, hash := &a.parts[partitionOf(code)], a.hash(code)
	addRecord := func(r *pendingRecord) { add(r.Day, &r.t) }
	for _, r := range p.runs {
		r.find(hash, code, period, addRecord)
	}
	p.held.find(hash, code, period, addRecord)
	for day, t := range p.queuedOf(hash, code, period) {
		add(day, t)
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
