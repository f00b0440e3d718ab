package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
)

const keyColumns = "id, name, scopes, created_at, sha256"

func scanKey(row pgx.Row) (auth.Key, error) {
	var k auth.Key
	if err := row.Scan(&k.ID, &k.Name, &k.Scopes, &k.CreatedAt, &k.Hash); err != nil {
		return auth.Key{}, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// PutKey implements auth.KeyStore: it stores k, replacing a key of its ID.
// Names and scopes are stored as the bbolt store's JSON would give them
// back, bytes that are not UTF-8 replaced.
func (db *DB) PutKey(ctx context.Context, k auth.Key) error {
	scopes := make([]string, len(k.Scopes))
	for i, s := range k.Scopes {
		scopes[i] = validUTF8(string(s))
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, scopes = excluded.scopes,
			created_at = excluded.created_at, sha256 = excluded.sha256`,
		k.ID, validUTF8(k.Name), scopes, k.CreatedAt, k.Hash)
	if err != nil {
		return fmt.Errorf("store key %s: %w", k.ID, err)
	}
	return nil
}

// GetKey implements auth.KeyStore.
func (db *DB) GetKey(ctx context.Context, id string) (auth.Key, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Key{}, auth.ErrNoKey
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("get key %s: %w", id, err)
	}
	return k, nil
}

// ListKeys implements auth.KeyStore.
func (db *DB) ListKeys(ctx context.Context) ([]auth.Key, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (auth.Key, error) { return scanKey(row) })
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	if keys == nil {
		keys = []auth.Key{}
	}
	return keys, nil
}

// DeleteKey implements auth.KeyStore. The revocation goes into the change
// feed, so that instances that cache keys drop it.
func (db *DB) DeleteKey(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete key %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNoKey
		}
		return recordChanges(ctx, tx, link.ChangeKey, []string{id})
	})
}
