package store_test

import (
	"context"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"

	"github.com/darkshare/darkshare/store/storetest"
)

// TestContract runs the contract every store meets on the bbolt store. One
// process holds a bbolt file, so the two "instances" are one handle.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, storetest.Store) {
		db := storetest.MustOpen(t)
		return db, db
	})
}

// The bbolt store has no other process to hear from.
func TestChangesSinceReportsNothing(t *testing.T) {
	db := storetest.MustOpen(t)
	create := func(ch link.Channel) (link.Link, error) { return link.Link{Code: "c1"}, nil }
	if _, err := db.Mint(context.Background(), "https://a.org/", []link.Channel{link.Email}, create); err != nil {
		t.Fatal(err)
	}
	if changes, latest, err := db.ChangesSince(context.Background(), 7); len(changes) != 0 || latest != 7 || err != nil {
		t.Fatalf("ChangesSince(7) = %v, %d, %v; want nothing, 7", changes, latest, err)
	}
}
