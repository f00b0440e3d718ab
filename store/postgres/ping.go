package postgres

import (
	"context"
	"fmt"
)

// Ping checks that the database answers, on a connection of the pool (a
// new one if none is idle). It returns the driver's error, wrapped; the
// caller bounds the wait with ctx.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}
