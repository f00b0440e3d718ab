package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/axiomhq/hyperloglog"
	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/pkg/stats"
)

// How the counts are kept (migrations/00002_counts.sql): counts holds a
// row per key, day and counter, to which each batch adds; sketches a row
// per key and day with the visitor IDs' sketch and its estimate; and
// stats_writers the last Seq of each Writer.
//
// Two instances may apply batches over the same link-days at once. Each
// statement takes its rows' locks in the batch's order (stats.DayKey's,
// then the counter's name), which every writer follows, so a writer only
// ever waits for one that is ahead of it: no deadlock.

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
		return fmt.Errorf("postgres: apply %d day records: %w", len(b.Deltas), err)
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
// the batch's order, each link-day's counters by name, so that two
// writers lock shared rows in the same order.
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
		return nil, fmt.Errorf("postgres: read the records of %q: %w", code, err)
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
		return nil, fmt.Errorf("postgres: read the records of %q: %w", code, err)
	}
	return out, nil
}

// Scan implements stats.Store. It reads scanPage key-days per query, each
// a row of its own (its counters and estimate gathered by the database),
// and calls fn with them once the query is done. So the pages are read
// at different moments: a batch that another instance applies meanwhile
// may show in the later pages only. Each key-day still comes once, in
// order.
func (db *DB) Scan(ctx context.Context, period stats.Period, fn func(stats.KeyCounts) error) error {
	counts := make(map[stats.Metric]uint64, 8)
	// The next page starts at the key-day (day, after), included: the
	// key right after a code c, bytewise, is c followed by a zero byte.
	day, after := period.From, []byte{}
	for {
		page, err := db.scanPage(ctx, period, day, after)
		if err != nil {
			return fmt.Errorf("postgres: scan %s to %s: %w", period.From, period.To, err)
		}
		for _, kc := range page {
			clear(counts)
			for i, m := range kc.metrics {
				counts[stats.Metric(m)] = uint64(kc.values[i])
			}
			if err := fn(stats.KeyCounts{Key: kc.key, Day: kc.day, Counts: counts}); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		last := page[len(page)-1]
		day, after = last.day, append([]byte(last.key), 0)
	}
}

// keyDay is a row of a scan: the counters of one key on one day, the
// unique visitors' estimate among them as Uniques.
type keyDay struct {
	day     stats.Day
	key     string
	metrics []string
	values  []int64
}

// scanPage returns the first scanPage key-days of period from (day, from)
// on, in (day, key) order.
func (db *DB) scanPage(ctx context.Context, period stats.Period, day stats.Day, from []byte) ([]keyDay, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT day, code, array_agg(metric), array_agg(n) FROM (
			SELECT day, code, metric, n FROM counts
			WHERE day <= $2 AND (day, code) >= ($1, $3)
			UNION ALL
			SELECT day, code, $4::text, estimate FROM sketches
			WHERE day <= $2 AND (day, code) >= ($1, $3)
		) AS t
		GROUP BY day, code
		ORDER BY day, code
		LIMIT $5`, int32(day), int32(period.To), from, string(stats.Uniques), scanPage)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (keyDay, error) {
		var (
			kc   keyDay
			d    int32
			code []byte
		)
		err := row.Scan(&d, &code, &kc.metrics, &kc.values)
		kc.day, kc.key = stats.Day(d), string(code)
		return kc, err
	})
}
