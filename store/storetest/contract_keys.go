package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
)

// KeyStore checks the contract of auth.KeyStore.
func KeyStore(t *testing.T, open Opener) {
	runAll(t, open, map[string]func(*testing.T, Opener){
		"Keys": testKeys,
	})
}

func testKeys(t *testing.T, open Opener) {
	s, other := open(t)
	if keys, err := s.ListKeys(ctx(t)); err != nil || keys == nil || len(keys) != 0 {
		t.Fatalf("no keys: %v, %v; want an empty slice", keys, err)
	}
	older := auth.Key{ID: "k1", Name: "older", Scopes: []auth.Scope{auth.ScopeStatsRead}, CreatedAt: created, Hash: []byte{1, 2, 3}}
	newer := auth.Key{ID: "k0", Name: "newer \xff", Scopes: []auth.Scope{auth.ScopeLinksWrite, auth.ScopeAdmin}, CreatedAt: created.Add(time.Hour), Hash: []byte{4, 5}}
	for _, k := range []auth.Key{newer, older} {
		if err := s.PutKey(ctx(t), k); err != nil {
			t.Fatal(err)
		}
	}
	newer.Name = "newer \uFFFD" // given back as encoding/json would
	keys, err := other.ListKeys(ctx(t))
	if err != nil || !reflect.DeepEqual(keys, []auth.Key{older, newer}) {
		t.Fatalf("ListKeys = %+v, %v; want oldest first: %+v", keys, err, []auth.Key{older, newer})
	}
	if k, err := other.GetKey(ctx(t), "k1"); err != nil || !reflect.DeepEqual(k, older) {
		t.Fatalf("GetKey = %+v, %v", k, err)
	}
	older.Name = "renamed"
	if err := other.PutKey(ctx(t), older); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.GetKey(ctx(t), "k1"); k.Name != "renamed" {
		t.Fatalf("PutKey of an existing ID did not replace it: %+v", k)
	}
	if err := other.DeleteKey(ctx(t), "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(ctx(t), "k1"); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("deleted key: %v, want ErrNoKey", err)
	}
	if err := s.DeleteKey(ctx(t), "k1"); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("deleting it again: %v, want ErrNoKey", err)
	}
	if keys, _ := s.ListKeys(ctx(t)); len(keys) != 1 || keys[0].ID != "k0" {
		t.Fatalf("keys left: %+v", keys)
	}
}
