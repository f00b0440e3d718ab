package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/pkg/link"
)

// recordChanges records, in tx, that the things of kind named by refs
// changed. It numbers them from change_counter, whose row stays locked
// until tx ends: a writer that comes later waits, and takes higher numbers
// that become visible after these. So a reader that has seen number n has
// seen every number below it, which a sequence (bigserial), handing out
// numbers in the order of the inserts rather than of the commits, would
// not give. Call it last in a transaction, to hold the lock briefly.
func recordChanges(ctx context.Context, tx pgx.Tx, kind link.ChangeKind, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	// One upsert may not touch a row twice.
	refs = slices.Compact(slices.Sorted(slices.Values(refs)))
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE change_counter SET last = last + $1 WHERE id = 1 RETURNING last`, len(refs)).Scan(&last); err != nil {
		return fmt.Errorf("number changes: %w", err)
	}
	seqs := make([]int64, len(refs))
	for i := range seqs {
		seqs[i] = last - int64(len(refs)-1-i)
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO changes (kind, ref, seq) SELECT $1, ref, seq FROM unnest($2::text[], $3::bigint[]) AS t(ref, seq)
		ON CONFLICT (kind, ref) DO UPDATE SET seq = excluded.seq`, string(kind), refs, seqs)
	if err != nil {
		return fmt.Errorf("record changes: %w", err)
	}
	return nil
}

// ChangesSince implements link.ChangeFeed.
func (db *DB) ChangesSince(ctx context.Context, seq uint64) ([]link.Change, uint64, error) {
	var last int64
	if err := db.pool.QueryRow(ctx, `SELECT last FROM change_counter WHERE id = 1`).Scan(&last); err != nil {
		return nil, 0, fmt.Errorf("read the change counter: %w", err)
	}
	if uint64(last) <= seq {
		return nil, uint64(last), nil
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, kind, ref FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(seq), link.MaxChanges)
	if err != nil {
		return nil, 0, fmt.Errorf("read changes: %w", err)
	}
	changes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (link.Change, error) {
		var (
			c link.Change
			n int64
		)
		err := row.Scan(&n, &c.Kind, &c.Ref)
		c.Seq = uint64(n)
		return c, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read changes: %w", err)
	}
	latest := seq
	if len(changes) > 0 {
		latest = changes[len(changes)-1].Seq
	}
	return changes, latest, nil
}
