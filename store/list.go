package store

import (
	"context"
	"errors"

	"github.com/darkshare/darkshare/pkg/link"
)

// List implements link.Store.
func (db *DB) List(_ context.Context, q link.ListQuery) (link.ListPage, error) {
	return link.ListPage{}, errors.New("not built yet")
}
