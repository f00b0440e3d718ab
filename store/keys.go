package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/auth"
)

// apiKey is auth.Key as stored; the hash is in the record, not in auth.Key's JSON.
type apiKey struct {
	auth.Key
	Hash []byte `json:"sha256"`
}

// PutKey implements auth.KeyStore.
func (db *DB) PutKey(_ context.Context, k auth.Key) error {
	v, err := json.Marshal(apiKey{Key: k, Hash: k.Hash})
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).Put([]byte(k.ID), v)
	})
}

func decodeKey(v []byte) (auth.Key, error) {
	var k apiKey
	if err := json.Unmarshal(v, &k); err != nil {
		return auth.Key{}, fmt.Errorf("decode key: %w", err)
	}
	k.Key.Hash = k.Hash
	return k.Key, nil
}

// GetKey implements auth.KeyStore.
func (db *DB) GetKey(_ context.Context, id string) (auth.Key, error) {
	var k auth.Key
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get([]byte(id))
		if v == nil {
			return auth.ErrNoKey
		}
		var err error
		k, err = decodeKey(v)
		return err
	})
	return k, err
}

// ListKeys implements auth.KeyStore.
func (db *DB) ListKeys(_ context.Context) ([]auth.Key, error) {
	keys := []auth.Key{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(_, v []byte) error {
			k, err := decodeKey(v)
			if err != nil {
				return err
			}
			keys = append(keys, k)
			return nil
		})
	})
	slices.SortFunc(keys, func(a, b auth.Key) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return keys, err
}

// DeleteKey implements auth.KeyStore.
func (db *DB) DeleteKey(_ context.Context, id string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		if b.Get([]byte(id)) == nil {
			return auth.ErrNoKey
		}
		return b.Delete([]byte(id))
	})
}
