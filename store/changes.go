package store

import (
	"context"

	"github.com/darkshare/darkshare/pkg/link"
)

// ChangesSince implements link.ChangeFeed. It never reports a change: bbolt
// lets one process hold the file, and that process made every change
// itself. So nothing is recorded, no bucket is kept, and latest is seq.
func (db *DB) ChangesSince(_ context.Context, seq uint64) ([]link.Change, uint64, error) {
	return nil, seq, nil
}
