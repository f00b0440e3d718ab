package store_test

import (
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/storetest"
)

// TestCountsContract runs the contract of stats.Store on the bbolt store,
// one handle standing for both instances.
func TestCountsContract(t *testing.T) {
	storetest.Counts(t, func(t *testing.T) (stats.Store, stats.Store) {
		db := storetest.MustOpen(t)
		return db, db
	})
}
