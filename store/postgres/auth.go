package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/pkg/auth"
)

// AdminToken implements auth.Store, in one query: instances call it every
// second (auth.Service.Refresh).
func (db *DB) AdminToken(ctx context.Context) (auth.StoredAdminToken, error) {
	var st auth.StoredAdminToken
	err := db.pool.QueryRow(ctx, `SELECT sha256, env_tag FROM admin_token WHERE id = 1`).Scan(&st.Hash, &st.EnvTag)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return auth.StoredAdminToken{}, fmt.Errorf("read the admin token: %w", err)
	}
	return st, nil
}

// SetAdminTokenHashIfAbsent implements auth.Store. The upsert sets the
// hash only where none is: an instance that races another waits for the
// row's lock, and then finds the winner's hash and changes nothing. The
// read is a statement of its own, so it sees the winner's commit.
func (db *DB) SetAdminTokenHashIfAbsent(ctx context.Context, hash []byte) ([]byte, error) {
	if _, err := db.pool.Exec(ctx, `
		INSERT INTO admin_token (id, sha256) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256 WHERE admin_token.sha256 IS NULL`, hash); err != nil {
		return nil, fmt.Errorf("store the admin token: %w", err)
	}
	var stored []byte
	if err := db.pool.QueryRow(ctx, `SELECT sha256 FROM admin_token WHERE id = 1`).Scan(&stored); err != nil {
		return nil, fmt.Errorf("read the admin token: %w", err)
	}
	return stored, nil
}

// SetAdminTokenHash implements auth.Store.
func (db *DB) SetAdminTokenHash(ctx context.Context, hash []byte) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO admin_token (id, sha256) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256`, hash)
	if err != nil {
		return fmt.Errorf("store the admin token: %w", err)
	}
	return nil
}

// SetEnvTokenTag implements auth.Store.
func (db *DB) SetEnvTokenTag(ctx context.Context, tag []byte) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO admin_token (id, env_tag) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET env_tag = excluded.env_tag`, tag)
	if err != nil {
		return fmt.Errorf("record the admin token's fingerprint: %w", err)
	}
	return nil
}

// PutSession implements auth.Store, in one statement: the purge of
// expired sessions and of those of other admin tokens, and the insert.
// Expiry is judged by this instance's clock, as the bbolt store does. The
// purge leaves the row being put alone: one statement must not both
// delete and update a row.
func (db *DB) PutSession(ctx context.Context, hash []byte, s auth.Session) error {
	token := s.Token
	if token == nil {
		token = []byte{} // the column holds no NULL; an empty fingerprint matches no token
	}
	_, err := db.pool.Exec(ctx, `
		WITH purged AS (DELETE FROM sessions WHERE (expires <= $4 OR token <> $3) AND sha256 <> $1)
		INSERT INTO sessions (sha256, expires, token) VALUES ($1, $2, $3)
		ON CONFLICT (sha256) DO UPDATE SET expires = excluded.expires, token = excluded.token`,
		hash, s.Expires, token, time.Now())
	if err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	return nil
}

// Session implements auth.Store.
func (db *DB) Session(ctx context.Context, hash []byte) (auth.Session, error) {
	var s auth.Session
	err := db.pool.QueryRow(ctx, `SELECT expires, token FROM sessions WHERE sha256 = $1`, hash).Scan(&s.Expires, &s.Token)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, auth.ErrNoSession
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("read session: %w", err)
	}
	return s, nil
}

// DeleteSession implements auth.Store.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE sha256 = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessions implements auth.Store.
func (db *DB) DeleteSessions(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions`); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}
