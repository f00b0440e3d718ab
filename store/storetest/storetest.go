// Package storetest gives tests a real, fresh db.
package storetest

import (
	"errors"
	"path/filepath"
	"testing"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/darkshare/darkshare/store"
)

// MustOpen opens a new db file in t.TempDir(). At cleanup it runs bbolt's
// consistency check, failing the test on any problem, then closes the db.
func MustOpen(t testing.TB, opts ...store.Option) *store.DB {
	t.Helper()
	return MustOpenPath(t, filepath.Join(t.TempDir(), "darkshare.db"), opts...)
}

// MustOpenPath opens the db file at path, creating it if need be, with
// MustOpen's check and close at cleanup unless it was closed before.
func MustOpenPath(t testing.TB, path string, opts ...store.Option) *store.DB {
	t.Helper()
	db, err := store.Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			return
		} else if err != nil {
			t.Errorf("db check: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close db: %v", err)
		}
	})
	return db
}

// Reopen checks and closes db, as a stopped process leaves it, then opens
// the file at path again: a restart.
func Reopen(t testing.TB, db *store.DB, path string, opts ...store.Option) *store.DB {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Fatalf("db check: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return MustOpenPath(t, path, opts...)
}
