package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/axiomhq/hyperloglog"
	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/pkg/stats"
)

// How the counts are kept (migrations/00003_counts.sql): counts holds a
// row per key, day and counter, to which each batch adds; sketches a row
// per key and day with the visitor IDs' sketch and its estimate; and
// stats_writers the last Seq of each Writer.
//
// Two instances may apply batches over the same link-days at once. Every
// writer takes its locks in one order: counter rows, then sketch rows,
// each in the batch's order (stats.DayKey's, then the counter's name), so
// a writer only ever waits for one that is ahead of it: no deadlock.

// scanPage is how many key-days a Scan reads per query. Scan holds no
// connection while fn runs, which may call the database (a report looks
// up each link): holding one per scan, concurrent scans could take the
// whole pool and wait forever for a connection to look a link up with.
const scanPage = 1000

// Apply implements stats.Store, in one transaction: the batch's Seq
// recorded as its Writer's last, every counter added, and the visitors
// merged into each link-day's sketch. A batch whose Seq is not newer than
// its Writer's last applied one is recognised as a retry and returns nil,
// counting nothing, whichever instance applied it first.
//
// After an error nothing of b counts, unless the error came after the
// commit (a lost answer): then b counts, and a retry of it is recognised.
func (db *DB) Apply(ctx context.Context, b stats.Batch) error {
	if len(b.Deltas) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		fresh, err := claimSeq(ctx, tx, b.Writer, b.Seq)
		if err != nil || !fresh {
			return err
		}
		if err := addCounters(ctx, tx, b.Deltas); err != nil {
			return err
		}
		return mergeSketches(ctx, tx, b.Deltas)
	})
	if err != nil {
		return fmt.Errorf("apply batch %d of writer %x: %w", b.Seq, b.Writer, err)
	}
	return nil
}

// claimSeq records seq as writer's last batch, and reports whether it is
// newer than the one recorded: if not, the batch was applied before. The
// writer's row stays locked until the commit, so two tries of one batch
// cannot both pass. Writer and Seq are stored bit for bit in bigints: a
// Seq counts from 1 and never reaches 2⁶³.
func claimSeq(ctx context.Context, tx pgx.Tx, writer, seq uint64) (bool, error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO stats_writers (writer, seq, applied_at) VALUES ($1, $2, now())
		ON CONFLICT (writer) DO UPDATE SET seq = excluded.seq, applied_at = excluded.applied_at
		WHERE stats_writers.seq < excluded.seq`, int64(writer), int64(seq))
	if err != nil {
		return false, fmt.Errorf("record the batch's sequence: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// addCounters adds every counter of deltas in one statement. An upsert
// may not touch a row twice: the deltas hold each link-day once (a
// Batch's promise) and Counters yields each counter once. The rows go in
// the batch's order, and each link-day's counters by name: Counters
// yields them in the order they were first counted, which differs from
// one writer to the next, and two writers taking a link-day's rows in
// opposite orders deadlock.
func addCounters(ctx context.Context, tx pgx.Tx, deltas []stats.Delta) error {
	n := len(deltas) * 3 // a click counts under 3 or 4 counters
	var (
		codes   = make([][]byte, 0, n)
		days    = make([]int32, 0, n)
		metrics = make([]string, 0, n)
		values  = make([]int64, 0, n)
	)
	type counter struct {
		m stats.Metric
		n uint64
	}
	var mine []counter
	for i := range deltas {
		d := &deltas[i]
		mine = mine[:0]
		for m, n := range d.Counters() {
			mine = append(mine, counter{m, n})
		}
		slices.SortFunc(mine, func(x, y counter) int { return cmp.Compare(x.m, y.m) })
		code := []byte(d.Code)
		for _, c := range mine {
			codes, days = append(codes, code), append(days, int32(d.Day))
			metrics, values = append(metrics, string(c.m)), append(values, int64(c.n))
		}
	}
	if len(codes) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO counts (code, day, metric, n)
		SELECT * FROM unnest($1::bytea[], $2::integer[], $3::text[], $4::bigint[])
		ON CONFLICT (code, day, metric) DO UPDATE SET n = counts.n + excluded.n`,
		codes, days, metrics, values)
	if err != nil {
		return fmt.Errorf("add %d counters: %w", len(codes), err)
	}
	return nil
}

// mergeSketches adds the visitors of deltas to their link-days' sketches.
// A sketch cannot be added to in SQL, so each is read, merged in Go and
// written back, its row locked in between: first every missing row is
// created, empty, then all of them are locked and read, in the batch's
// order. Without the first step, two writers that both found a row
// missing would both insert it, and the second would overwrite the
// first's visitors.
func mergeSketches(ctx context.Context, tx pgx.Tx, deltas []stats.Delta) error {
	var (
		visited []*stats.Delta
		codes   [][]byte
		days    []int32
	)
	for i := range deltas {
		if d := &deltas[i]; d.HasVisitors() {
			visited = append(visited, d)
			codes, days = append(codes, []byte(d.Code)), append(days, int32(d.Day))
		}
	}
	if len(visited) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO sketches (code, day, sketch, estimate)
		SELECT code, day, '', 0 FROM unnest($1::bytea[], $2::integer[]) AS t(code, day)
		ON CONFLICT (code, day) DO NOTHING`, codes, days)
	if err != nil {
		return fmt.Errorf("create %d sketches: %w", len(visited), err)
	}
	rows, err := tx.Query(ctx, `
		SELECT s.sketch
		FROM unnest($1::bytea[], $2::integer[]) WITH ORDINALITY AS t(code, day, i)
		JOIN sketches s ON s.code = t.code AND s.day = t.day
		ORDER BY t.i
		FOR UPDATE OF s`, codes, days)
	if err != nil {
		return fmt.Errorf("lock %d sketches: %w", len(visited), err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return fmt.Errorf("read %d sketches: %w", len(visited), err)
	}
	if len(stored) != len(visited) {
		return fmt.Errorf("read %d sketches: %d rows", len(visited), len(stored))
	}
	estimates := make([]int64, len(visited))
	for i, d := range visited {
		if stored[i], estimates[i], err = merge(stored[i], d); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO sketches (code, day, sketch, estimate)
		SELECT * FROM unnest($1::bytea[], $2::integer[], $3::bytea[], $4::bigint[])
		ON CONFLICT (code, day) DO UPDATE SET sketch = excluded.sketch, estimate = excluded.estimate`,
		codes, days, stored, estimates)
	if err != nil {
		return fmt.Errorf("write %d sketches: %w", len(visited), err)
	}
	return nil
}

// merge returns the sketch stored (empty for none) with d's visitors
// added, in its binary form, and its estimate.
func merge(stored []byte, d *stats.Delta) ([]byte, int64, error) {
	sk := hyperloglog.New14()
	if len(stored) > 0 {
		if err := sk.UnmarshalBinary(stored); err != nil {
			return nil, 0, fmt.Errorf("the sketch of %q on %s: %w", d.Code, d.Day, err)
		}
	}
	if err := d.AddVisitorsTo(sk); err != nil {
		return nil, 0, fmt.Errorf("the sketch of %q on %s: %w", d.Code, d.Day, err)
	}
	b, err := sk.MarshalBinary()
	if err != nil {
		return nil, 0, fmt.Errorf("encode the sketch of %q on %s: %w", d.Code, d.Day, err)
	}
	return b, int64(sk.Estimate()), nil
}

// Records implements stats.Store: the counters and sketches of code in
// period, read in one statement, so from one snapshot.
func (db *DB) Records(ctx context.Context, code string, period stats.Period) ([]stats.DayRecord, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT day, metric, n, NULL::bytea FROM counts WHERE code = $1 AND day BETWEEN $2 AND $3
		UNION ALL
		SELECT day, NULL, 0, sketch FROM sketches WHERE code = $1 AND day BETWEEN $2 AND $3
		ORDER BY 1`, []byte(code), int32(period.From), int32(period.To))
	if err != nil {
		return nil, fmt.Errorf("read the records of %q: %w", code, err)
	}
	var (
		out    []stats.DayRecord
		day    int32
		metric *string
		n      int64
		sketch []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&day, &metric, &n, &sketch}, func() error {
		if last := len(out) - 1; last < 0 || out[last].Day != stats.Day(day) {
			out = append(out, stats.DayRecord{Day: stats.Day(day), Record: stats.Record{Counts: make(map[stats.Metric]uint64, 4)}})
		}
		r := &out[len(out)-1].Record
		if metric != nil {
			r.Counts[stats.Metric(*metric)] = uint64(n)
			return nil
		}
		r.Visitors = new(hyperloglog.Sketch)
		if err := r.Visitors.UnmarshalBinary(sketch); err != nil {
			return fmt.Errorf("the sketch of %q on %s: %w", code, stats.Day(day), err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the records of %q: %w", code, err)
	}
	return out, nil
}

// Scan implements stats.Store. It reads the period a page at a time:
// scanPage key-days of counters and as many of sketches' estimates, both
// in (day, key) order by their indexes, in one round trip; then it calls
// fn with the key-days up to where both have been read. So the pages are
// read at different moments: a batch that another instance applies
// meanwhile may show in the later pages only, or in a key-day's counters
// and not yet in its estimate. Each key-day still comes once, in order.
func (db *DB) Scan(ctx context.Context, period stats.Period, fn func(stats.KeyCounts) error) error {
	counts := make(map[stats.Metric]uint64, 8)
	from := keyOnDay{day: period.From} // included
	for {
		page, more, err := db.scanPage(ctx, period, from)
		if err != nil {
			return fmt.Errorf("read the counts from %s on: %w", from.day, err)
		}
		for _, kd := range page {
			clear(counts)
			for i, m := range kd.metrics {
				counts[stats.Metric(m)] = uint64(kd.values[i])
			}
			if kd.sketched {
				counts[stats.Uniques] = uint64(kd.estimate)
			}
			if err := fn(stats.KeyCounts{Key: kd.key, Day: kd.day, Counts: counts}); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		// The key right after k, bytewise, is k followed by a zero byte.
		last := page[len(page)-1].keyOnDay
		from = keyOnDay{day: last.day, key: last.key + "\x00"}
	}
}

// keyOnDay is a key-day, ordered as a scan gives them: day, then key bytewise.
type keyOnDay struct {
	day stats.Day
	key string
}

func (k keyOnDay) compare(o keyOnDay) int {
	return cmp.Or(cmp.Compare(k.day, o.day), strings.Compare(k.key, o.key))
}

// keyDay is what a scan read of one key-day: counters, and the estimate
// of its sketch if it has one.
type keyDay struct {
	keyOnDay
	metrics  []string
	values   []int64
	sketched bool
	estimate int64
}

// scanPage returns the key-days of period from from on, in order, as far
// as it read both their counters and their sketches, and whether there
// may be more. A query that returned scanPage rows stopped there: past
// its last row, the other query's rows cannot be matched yet.
func (db *DB) scanPage(ctx context.Context, period stats.Period, from keyOnDay) ([]keyDay, bool, error) {
	var counters, sketches []keyDay
	args := []any{int32(from.day), []byte(from.key), int32(period.To), scanPage}
	b := &pgx.Batch{}
	b.Queue(`
		SELECT day, code, array_agg(metric), array_agg(n) FROM counts
		WHERE (day, code) >= ($1, $2) AND day <= $3
		GROUP BY day, code ORDER BY day, code LIMIT $4`, args...).Query(func(rows pgx.Rows) error {
		var err error
		counters, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (keyDay, error) {
			var kd keyDay
			err := scanKeyDay(row, &kd, &kd.metrics, &kd.values)
			return kd, err
		})
		return err
	})
	b.Queue(`
		SELECT day, code, estimate FROM sketches
		WHERE (day, code) >= ($1, $2) AND day <= $3
		ORDER BY day, code LIMIT $4`, args...).Query(func(rows pgx.Rows) error {
		var err error
		sketches, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (keyDay, error) {
			kd := keyDay{sketched: true}
			err := scanKeyDay(row, &kd, &kd.estimate)
			return kd, err
		})
		return err
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, err
	}
	var end *keyOnDay // the last key-day read of both; nil: the period's end
	for _, rows := range [][]keyDay{counters, sketches} {
		if len(rows) == scanPage {
			if last := &rows[len(rows)-1].keyOnDay; end == nil || last.compare(*end) < 0 {
				end = last
			}
		}
	}
	out := make([]keyDay, 0, len(counters))
	for len(counters) > 0 || len(sketches) > 0 {
		var next keyDay
		switch c := compareHeads(counters, sketches); {
		case c < 0:
			next, counters = counters[0], counters[1:]
		case c > 0:
			next, sketches = sketches[0], sketches[1:]
		default:
			next, counters = counters[0], counters[1:]
			next.sketched, next.estimate, sketches = true, sketches[0].estimate, sketches[1:]
		}
		if end != nil && next.compare(*end) > 0 {
			break
		}
		out = append(out, next)
	}
	return out, end != nil, nil
}

// compareHeads compares the first key-days of x and y, either of which
// may be empty: an empty one comes last.
func compareHeads(x, y []keyDay) int {
	switch {
	case len(x) == 0:
		return 1
	case len(y) == 0:
		return -1
	}
	return x[0].compare(y[0].keyOnDay)
}

// scanKeyDay scans a row's day and key into kd, and the rest into dest.
func scanKeyDay(row pgx.CollectableRow, kd *keyDay, dest ...any) error {
	var (
		day  int32
		code []byte
	)
	if err := row.Scan(append([]any{&day, &code}, dest...)...); err != nil {
		return err
	}
	kd.day, kd.key = stats.Day(day), string(code)
	return nil
}
