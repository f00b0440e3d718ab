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
//
// Counts live in three places: pending (in memory only, since the last
// flush), unfolded (appended to the store's log by a flush, and kept in
// memory merged per link and day, see partition.go), and folded into the
// store's day records. Each record is written to the day records once for
// many flushes, which is what keeps flushes cheap when clicks spread over a
// million links.
type Aggregator struct {
	store  Store
	seed   maphash.Seed
	shards [shardCount]shard

	// flushMu orders flushes and folds against reads: a reader holding it
	// sees every count in exactly one of the three places. It also guards
	// the fields below it.
	flushMu    sync.RWMutex
	parts      [partitionCount]partition // the unfolded counts
	loggedUpTo uint64                    // sequence of the last log entry in parts
	nextPart   int                       // the next step's partition
	// Buffers every flush reuses: at a million link-days, fresh ones were
	// megabytes a flush, and each collection they brought on scanned every
	// unfolded tally.
	encoded  []byte          // a log entry or checkpoint, as encoded
	batch    []pendingRecord // the records taken from the shards
	unloaded []pendingRecord // a partition's records, for its checkpoint

	pending   atomic.Int64
	lastError atomic.Pointer[flushFailure]
	log       *slog.Logger
	observe   func(time.Duration, error) // set before use; never nil
}

type shard struct {
	mu      sync.Mutex
	records map[DayKey]*tally
	_       [48]byte // keep shards on separate cache lines
}

type flushFailure struct {
	at  time.Time
	err error
}

// NewAggregator returns an Aggregator that flushes into store.
func NewAggregator(store Store, log *slog.Logger) *Aggregator {
	a := &Aggregator{
		store: store, seed: maphash.MakeSeed(), log: log,
		observe: func(time.Duration, error) {},
	}
	for i := range a.shards {
		a.shards[i].records = make(map[DayKey]*tally)
	}
	return a
}

// record returns the pending record of code and day; the caller holds s.mu.
func (s *shard) record(code string, day Day) *tally {
	k := DayKey{Code: code, Day: day}
	r := s.records[k]
	if r == nil {
		r = &tally{}
		s.records[k] = r
	}
	return r
}

// Add counts one event. code must be a string the caller owns (not memory
// borrowed from a request), since it is kept until the next flush.
func (a *Aggregator) Add(code string, day Day, m Metric) {
	a.AddMany(code, day, m)
}

// ObserveFlushes has f called after every write to the store (a flush's
// append or a fold), with its duration and error. Call it before Run.
func (a *Aggregator) ObserveFlushes(f func(time.Duration, error)) { a.observe = f }

// AddMany counts one event under each of metrics, with one lookup.
func (a *Aggregator) AddMany(code string, day Day, metrics ...Metric) {
	a.count(code, day, metrics, nil, 0, false)
}

// AddVisitor adds a visitor ID to the unique-visitor sketch of code and day.
// Only the 64-bit ID enters the sketch; a sketch cannot give IDs back.
func (a *Aggregator) AddVisitor(code string, day Day, visitor uint64) {
	a.count(code, day, nil, nil, visitor, true)
}

// count adds one event under each of metrics and of ids (the same counters
// by id, which the click path has ready) and, if hasVisitor, visitor to
// the sketch, under one lock of the record's shard: a click does both.
func (a *Aggregator) count(code string, day Day, metrics []Metric, ids []counterID, visitor uint64, hasVisitor bool) {
	s := a.shardOf(code)
	s.mu.Lock()
	r := s.record(code, day)
	for _, m := range metrics {
		r.add(m, 1)
	}
	for _, id := range ids {
		r.addID(id, 1)
	}
	if hasVisitor {
		r.addVisitor(visitor)
	}
	s.mu.Unlock()
	a.pending.Add(int64(len(metrics) + len(ids)))
}

func (a *Aggregator) shardOf(code string) *shard {
	return &a.shards[maphash.String(a.seed, code)%shardCount]
}

// Pending returns the number of events not yet written.
func (a *Aggregator) Pending() int64 { return a.pending.Load() }

// Flush appends every pending record to the store's log in one
// transaction, then folds or checkpoints one partition of the unfolded
// counts. On failure the records stay
// pending, to be retried by the next flush, and the error is returned and
// remembered for Healthy.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	taken, events := a.takePending(a.batch[:0])
	// The tallies stay where they are going; the buffer should not keep
	// them alive past a fold.
	defer func() { a.batch = taken[:0]; clear(taken) }()
	if len(taken) > 0 {
		if err := a.appendLog(ctx, taken); err != nil {
			a.restore(taken)
			return a.failed(fmt.Errorf("flush %d day records: %w", len(taken), err))
		}
		a.pending.Add(-events)
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

func (a *Aggregator) appendLog(ctx context.Context, taken []pendingRecord) error {
	data, err := encodeBatch(a.encoded[:0], taken)
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
	// The records are ours now: pending maps were swapped out.
	a.unfold(taken, time.Now())
	a.loggedUpTo = seq
	return nil
}

type pendingRecord struct {
	DayKey
	t *tally
}

// takePending appends every pending record to taken.
func (a *Aggregator) takePending(taken []pendingRecord) (_ []pendingRecord, events int64) {
	for i := range a.shards {
		s := &a.shards[i]
		// Only a map swapped out is read after unlocking: an empty map left
		// in place is written by Add meanwhile.
		var records map[DayKey]*tally
		s.mu.Lock()
		if len(s.records) > 0 {
			records, s.records = s.records, make(map[DayKey]*tally, len(s.records))
		}
		s.mu.Unlock()
		for k, t := range records {
			taken = append(taken, pendingRecord{DayKey: k, t: t})
			events += t.events()
		}
	}
	return taken, events
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

func (a *Aggregator) restore(taken []pendingRecord) {
	for _, p := range taken {
		s := a.shardOf(p.Code)
		s.mu.Lock()
		if cur := s.records[p.DayKey]; cur != nil {
			p.t.merge(cur)
		}
		s.records[p.DayKey] = p.t
		s.mu.Unlock()
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
	unfolded := a.parts[partitionOf(code)].records
	for day := period.From; day <= period.To && len(unfolded) > 0; day++ {
		if t := unfolded[DayKey{Code: code, Day: day}]; t != nil {
			add(day, t)
		}
	}
	s := a.shardOf(code)
	s.mu.Lock()
	for k, pending := range s.records {
		if k.Code != code || !period.Contains(k.Day) {
			continue
		}
		add(k.Day, pending)
	}
	s.mu.Unlock()
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
