package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/postgres"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
	"github.com/darkshare/darkshare/store/storetest"
)

// TestCountsContract runs the contract of stats.Store on two instances,
// each with its own pool, on one database.
func TestCountsContract(t *testing.T) {
	storetest.Counts(t, func(t *testing.T) (stats.Store, stats.Store) {
		u := pgtest.URL(t)
		return pgtest.OpenURL(t, u), pgtest.OpenURL(t, u)
	})
}

const countsDay stats.Day = 20_000

// delta returns a delta of code on countsDay: n clicks, and visitors.
func delta(code string, n uint64, visitors ...uint64) stats.Delta {
	d := stats.Delta{DayKey: stats.DayKey{Code: code, Day: countsDay}}
	d.Add(stats.Clicks, n)
	for _, v := range visitors {
		d.AddVisitor(v * 0x9E3779B97F4A7C15)
	}
	return d
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// dayRecord reads code's record on countsDay: its clicks and its unique
// visitors, 0 and 0 if it has none.
func dayRecord(t *testing.T, db *postgres.DB, code string) (clicks, uniques uint64) {
	t.Helper()
	recs, err := db.Records(testCtx(t), code, stats.Period{From: countsDay, To: countsDay})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		return 0, 0
	}
	if recs[0].Visitors != nil {
		uniques = recs[0].Visitors.Estimate()
	}
	return recs[0].Counts[stats.Clicks], uniques
}

// An Apply cancelled after its counters were written, while it waits for
// a sketch's lock, leaves nothing behind: not the counters, not its Seq,
// so that its retry counts in full, once.
func TestApplyCancelledMidWayChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	u := pgtest.URL(t)
	db := pgtest.OpenURL(t, u)
	if err := db.Apply(ctx, stats.Batch{Writer: 1, Seq: 1, Deltas: []stats.Delta{delta("c1", 1, 1)}}); err != nil {
		t.Fatal(err)
	}
	// Another instance holds c1's sketch.
	other, err := pgxpool.New(ctx, u) // the URL has pool options
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holding, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holding.Exec(ctx, `SELECT 1 FROM sketches WHERE code = $1 FOR UPDATE`, []byte("c1")); err != nil {
		t.Fatal(err)
	}
	b := stats.Batch{Writer: 1, Seq: 2, Deltas: []stats.Delta{delta("c0", 5), delta("c1", 5, 2), delta("c2", 5)}}
	applyCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- db.Apply(applyCtx, b) }()
	waitForLockWait(t, ctx, other)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled Apply returned %v", err)
	}
	if err := holding.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string][2]uint64{"c0": {0, 0}, "c1": {1, 1}, "c2": {0, 0}} {
		if clicks, uniques := dayRecord(t, db, code); clicks != want[0] || uniques != want[1] {
			t.Fatalf("after a cancelled Apply, %s has %d clicks, %d visitors; want %v, as before", code, clicks, uniques, want)
		}
	}
	if err := db.Apply(ctx, b); err != nil { // the aggregator's retry
		t.Fatal(err)
	}
	for code, want := range map[string][2]uint64{"c0": {5, 0}, "c1": {6, 2}, "c2": {5, 0}} {
		if clicks, uniques := dayRecord(t, db, code); clicks != want[0] || uniques != want[1] {
			t.Fatalf("after the retry, %s has %d clicks, %d visitors; want %v", code, clicks, uniques, want)
		}
	}
}

// waitForLockWait returns once a statement on pool's database waits for
// a sketch's row lock.
func waitForLockWait(t *testing.T, ctx context.Context, pool *pgxpool.Pool) {
	t.Helper()
	for {
		var waiting bool
		err := pool.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF s%')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Scan holds no connection while fn runs: as many scans as the pool has
// connections, each of whose fn reads the database while all of them are
// in fn, all finish. (Holding one, they would wait for each other's
// connections forever.)
func TestScanHoldsNoConnectionWhileFnRuns(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	const pool = 2
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "2")
	u.RawQuery = q.Encode()
	db := pgtest.OpenURL(t, u.String())
	if err := db.Apply(ctx, stats.Batch{Writer: 1, Seq: 1, Deltas: []stats.Delta{delta("c1", 1, 1), delta("c2", 1)}}); err != nil {
		t.Fatal(err)
	}
	var (
		inFn    atomic.Int32
		allInFn = make(chan struct{})
		wg      sync.WaitGroup
		errs    = make([]error, pool)
	)
	for i := range pool {
		wg.Go(func() {
			first := true
			errs[i] = db.Scan(ctx, stats.Period{From: countsDay, To: countsDay}, func(kc stats.KeyCounts) error {
				if first {
					first = false
					if inFn.Add(1) == pool {
						close(allInFn)
					}
					select {
					case <-allInFn:
					case <-ctx.Done():
						return fmt.Errorf("waiting for the other scans to call fn: %w", ctx.Err())
					}
				}
				_, err := db.Records(ctx, kc.Key, stats.Period{From: kc.Day, To: kc.Day})
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("scan %d: %v", i, err)
		}
	}
}
