package stats_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

// The aggregator and the bbolt store, driven at random, read the same as a
// plain model (a map of link-days to counters and exact visitor sets),
// through writes that fail before or after the store committed them,
// restarts that lose what was in memory, folds on the store's clock, and
// explicit folds and checkpoints.
func TestAggregatorAndStoreAgainstAModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { runModel(t, seed) })
	}
}

func runModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	clk := &clock{now: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "d.db")
	db := storetest.MustOpenPath(t, path, store.WithClock(clk.Now))
	chaos := &chaosStore{Store: db, rng: rand.New(rand.NewPCG(seed, 7))}
	newAgg := func() *stats.Aggregator { return stats.NewAggregator(chaos, discard, stats.WithClock(clk.Now)) }
	agg := newAgg()
	m := newModel()

	// Codes of shortid's length sharing their first 8 bytes or not, a
	// short one, and page-view keys.
	codes := []string{"gE54r30wq", "gE54r30wA", "gE54o36wq", "3E54rg0Jq0", "x", stats.SiteKey, stats.PageKey("https://news.example.org/a"), stats.PageKey("https://news.example.org/b")}
	metrics := []stats.Metric{stats.Clicks, stats.Shares, stats.Bots, "ref:webmail", "device:mobile", "inapp:slack", "preview:whatsapp", "view:social"}
	const firstDay = stats.Day(20400)
	period := stats.Period{From: firstDay - 1, To: firstDay + 3}

	for step := range 2500 {
		switch r := rng.IntN(100); {
		case r < 55: // an event
			k := stats.DayKey{Code: codes[rng.IntN(len(codes))], Day: firstDay + stats.Day(rng.IntN(3))}
			var ms []stats.Metric
			for range rng.IntN(7) { // past a delta's four slots, at times
				ms = append(ms, metrics[rng.IntN(len(metrics))])
			}
			agg.AddMany(k.Code, k.Day, ms...)
			m.count(k, ms)
			if rng.IntN(2) == 0 {
				v := uint64(rng.IntN(40)+1) * 0x9E3779B97F4A7C15 // well mixed, and seen again
				agg.AddVisitor(k.Code, k.Day, v)
				m.visit(k, v)
			}
		case r < 70:
			chaos.outcomes = chaos.outcomes[:0]
			_ = agg.Flush(ctx) // failures are the point
			if err := m.flushed(chaos.outcomes); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		case r < 73: // a crash: what was in memory is lost
			db = storetest.Reopen(t, db, path, store.WithClock(clk.Now))
			chaos.Store = db
			agg = newAgg()
			m.restarted()
		case r < 77:
			clk.Add(time.Duration(rng.IntN(40)) * time.Minute)
		case r < 79:
			if err := db.Fold(ctx); err != nil {
				t.Fatal(err)
			}
		case r < 81:
			if err := db.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		default:
			m.check(t, step, agg, period, codes)
		}
	}
	chaos.never, chaos.outcomes = true, chaos.outcomes[:0]
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.flushed(chaos.outcomes); err != nil {
		t.Fatal(err)
	}
	m.check(t, -1, agg, period, codes)
	db = storetest.Reopen(t, db, path, store.WithClock(clk.Now))
	chaos.Store = db
	m.restarted()
	m.check(t, -2, newAgg(), period, codes)
}

// chaosStore wraps the real store: Apply fails at random, before the
// store saw the batch or after it committed it (a lost answer). It notes
// the outcome of each call in outcomes.
type chaosStore struct {
	stats.Store
	rng      *rand.Rand
	never    bool // fail no more
	outcomes []outcome
}

type outcome int

const (
	applied outcome = iota
	failedBefore
	failedAfter
)

func (c *chaosStore) Apply(ctx context.Context, b stats.Batch) error {
	o := applied
	if r := c.rng.IntN(100); !c.never && r < 15 {
		o = failedBefore
	} else if !c.never && r < 25 {
		o = failedAfter
	}
	c.outcomes = append(c.outcomes, o)
	if o == failedBefore {
		return errors.New("injected: the write failed")
	}
	if err := c.Store.Apply(ctx, b); err != nil {
		return err
	}
	if o == failedAfter {
		return errors.New("injected: the answer was lost")
	}
	return nil
}

// model is where the aggregator's counts should be, as plain maps.
type model struct {
	stored, held, queued map[stats.DayKey]*modelCounts
	// heldApplied: the held batch failed after the store committed it.
	heldApplied bool
}

type modelCounts struct {
	counts   map[stats.Metric]uint64
	visitors map[uint64]bool
}

func newModel() *model {
	return &model{stored: map[stats.DayKey]*modelCounts{}, queued: map[stats.DayKey]*modelCounts{}}
}

func at(place map[stats.DayKey]*modelCounts, k stats.DayKey) *modelCounts {
	c := place[k]
	if c == nil {
		c = &modelCounts{counts: map[stats.Metric]uint64{}, visitors: map[uint64]bool{}}
		place[k] = c
	}
	return c
}

func (m *model) count(k stats.DayKey, ms []stats.Metric) {
	if len(ms) == 0 {
		return
	}
	c := at(m.queued, k)
	for _, metric := range ms {
		c.counts[metric]++
	}
}

func (m *model) visit(k stats.DayKey, v uint64) { at(m.queued, k).visitors[v] = true }

func addPlace(dst, src map[stats.DayKey]*modelCounts) {
	for k, c := range src {
		d := at(dst, k)
		for metric, n := range c.counts {
			d.counts[metric] += n
		}
		for v := range c.visitors {
			d.visitors[v] = true
		}
	}
}

// flushed follows the protocol of Flush through the outcomes of its
// writes: the held batch first, as it was, then the queued counts as a
// new batch, if the first succeeded.
func (m *model) flushed(outcomes []outcome) error {
	i := 0
	next := func() (outcome, error) {
		if i == len(outcomes) {
			return 0, fmt.Errorf("flush wrote %d batches, the model wants more", len(outcomes))
		}
		i++
		return outcomes[i-1], nil
	}
	if m.held != nil {
		o, err := next()
		if err != nil {
			return err
		}
		if o != failedBefore && !m.heldApplied {
			addPlace(m.stored, m.held)
			m.heldApplied = true
		}
		if o != applied {
			return m.done(i, outcomes)
		}
		m.held, m.heldApplied = nil, false
	}
	if len(m.queued) > 0 {
		o, err := next()
		if err != nil {
			return err
		}
		if o != failedBefore {
			addPlace(m.stored, m.queued)
		}
		if o != applied {
			m.held, m.heldApplied = m.queued, o == failedAfter
		}
		m.queued = map[stats.DayKey]*modelCounts{}
	}
	return m.done(i, outcomes)
}

func (m *model) done(i int, outcomes []outcome) error {
	if i != len(outcomes) {
		return fmt.Errorf("flush wrote %d batches, the model wants %d", len(outcomes), i)
	}
	return nil
}

func (m *model) restarted() {
	m.held, m.heldApplied, m.queued = nil, false, map[stats.DayKey]*modelCounts{}
}

// want returns what reads should give: stored, held and queued counts.
func (m *model) want() map[stats.DayKey]*modelCounts {
	all := map[stats.DayKey]*modelCounts{}
	addPlace(all, m.stored)
	if !m.heldApplied {
		addPlace(all, m.held)
	}
	addPlace(all, m.queued)
	return all
}

func (m *model) pending() int64 {
	var n int64
	for _, place := range []map[stats.DayKey]*modelCounts{m.held, m.queued} {
		for _, c := range place {
			for _, v := range c.counts {
				n += int64(v)
			}
		}
	}
	return n
}

// check compares the aggregator's reads, Summary and Scan, with the model:
// counters exactly, unique visitors within the sketch's error.
func (m *model) check(t *testing.T, step int, agg *stats.Aggregator, period stats.Period, codes []string) {
	t.Helper()
	if got, want := agg.Pending(), m.pending(); got != want {
		t.Fatalf("step %d: %d events pending, the model has %d", step, got, want)
	}
	if m.heldApplied {
		return // the held batch is in the store too, until its retry
	}
	want := m.want()
	same := func(what string, k stats.DayKey, got map[stats.Metric]uint64) {
		t.Helper()
		w := want[k]
		if w == nil {
			w = &modelCounts{}
		}
		counters := maps.Clone(got)
		delete(counters, stats.Uniques)
		wantCounters := maps.Clone(w.counts)
		maps.DeleteFunc(wantCounters, func(_ stats.Metric, n uint64) bool { return n == 0 })
		if !maps.Equal(counters, wantCounters) {
			t.Fatalf("step %d: %s of %v: %v, the model has %v", step, what, k, counters, wantCounters)
		}
		if u, n := got[stats.Uniques], uint64(len(w.visitors)); u+1+n/50 < n || u > n+1+n/50 {
			t.Fatalf("step %d: %s of %v: %d unique visitors, the model has %d", step, what, k, u, n)
		}
	}
	for _, code := range codes {
		s, err := agg.Summary(ctx, code, period)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[stats.Day]bool{}
		for _, d := range s.Days {
			same("Summary", stats.DayKey{Code: code, Day: d.Day}, d.Counts)
			seen[d.Day] = true
		}
		for k, w := range want {
			if k.Code == code && !seen[k.Day] && (len(w.visitors) > 0 || len(w.counts) > 0) {
				t.Fatalf("step %d: Summary lacks %v, which the model has: %v", step, k, w.counts)
			}
		}
	}
	scanned := map[stats.DayKey]bool{}
	err := agg.Scan(ctx, period, func(kc stats.KeyCounts) error {
		k := stats.DayKey{Code: kc.Key, Day: kc.Day}
		if scanned[k] {
			t.Fatalf("step %d: Scan gave %v twice", step, k)
		}
		scanned[k] = true
		same("Scan", k, kc.Counts)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		if !scanned[k] && (len(w.visitors) > 0 || len(w.counts) > 0) {
			t.Fatalf("step %d: Scan lacks %v, which the model has", step, k)
		}
	}
}

// clock is a time that a test moves on.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }
