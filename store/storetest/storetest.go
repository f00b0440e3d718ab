// Package storetest gives tests a real, fresh db.
package storetest

import (
	"path/filepath"
	"testing"

	"github.com/darkshare/darkshare/store"
)

// MustOpen opens a new db file in t.TempDir(). At cleanup it runs bbolt's
// consistency check, failing the test on any problem, then closes the db.
func MustOpen(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "darkshare.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("db check: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close db: %v", err)
		}
	})
	return db
}
