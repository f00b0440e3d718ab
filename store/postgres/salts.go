package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SaltOf implements track.SaltStore: the first instance to store a day's
// salt wins, by the primary key on day, and every instance reads the
// winner back. The read is a statement of its own, after the insert: an
// insert that lost waits for the winner's commit, and only a later
// statement sees the winner's row.
//
// The salts of earlier days are deleted in the same transaction. Deleting
// does not wipe: PostgreSQL keeps a deleted row until VACUUM removes it
// (the table asks autovacuum to come as soon as a row is dead, about a
// minute with autovacuum_naptime's default, longer on a busy server), and
// even then its bytes stay in the table's free space until new rows
// overwrite them, in the WAL until its segment is recycled, and in any WAL
// archive or base backup as long as those are kept. docs/POSTGRES.md says
// so, and how to keep the table out of dumps.
func (db *DB) SaltOf(ctx context.Context, day int64, candidate []byte) ([]byte, error) {
	var salt []byte
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING`, day, candidate); err != nil {
			return fmt.Errorf("store the salt of day %d: %w", day, err)
		}
		if err := tx.QueryRow(ctx, `SELECT salt FROM salts WHERE day = $1`, day).Scan(&salt); err != nil {
			return fmt.Errorf("read the salt of day %d: %w", day, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM salts WHERE day < $1`, day); err != nil {
			return fmt.Errorf("delete the salts before day %d: %w", day, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return salt, nil
}
