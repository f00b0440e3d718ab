package postgres_test

import (
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
	"github.com/darkshare/darkshare/store/storetest"
)

// TestCountsContract runs the contract of stats.Store on two instances,
// each with its own pool, on one database.
func TestCountsContract(t *testing.T) {
	storetest.Counts(t, func(t *testing.T) (stats.Store, stats.Store) {
		u := pgtest.URL(t)
		return pgtest.OpenURL(t, u), pgtest.OpenURL(t, u)
	})
}
