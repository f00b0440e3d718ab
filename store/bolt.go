// Package store keeps darkshare's data in one bbolt file. It implements the
// storage interfaces of pkg/link, pkg/stats and pkg/auth.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/track"
)

// SchemaVersion is the layout this code reads and writes. Open refuses a db
// of any other version: no release has written another, so there is
// nothing to migrate from.
const SchemaVersion = 1

// ErrSchemaVersion is returned by Open for a db of another schema version.
var ErrSchemaVersion = errors.New("unsupported db schema version")

// OpenTimeout bounds the wait for another process's lock on the file.
const OpenTimeout = 2 * time.Second

var (
	bucketMeta     = []byte("meta")        // schema_version, admin_token_sha256, env_token_tag
	bucketLinks    = []byte("links")       // code -> JSON link.Link
	bucketTargets  = []byte("targets")     // url \x00 channel -> code
	bucketDays     = []byte("days")        // day(uint32 BE) code -> stats.Record: every counter and the visitor sketch
	bucketLog      = []byte("log")         // sequence (uint64 BE) -> one batch's deltas, until checkpoints or folds stand for them (counts.go)
	bucketChecks   = []byte("checkpoints") // partition (uint32 BE) -> log sequence (uint64 BE), its unfolded counts (counts.go)
	bucketSessions = []byte("sessions")    // sha256(session id) -> expiry (unix ns, BE), fingerprint of the admin token
	bucketSalts    = []byte("salts")       // day (int64 BE) -> the day's visitor salt; one entry at most
	bucketKeys     = []byte("keys")        // api key id -> JSON apiKey (name, scopes, sha256 of the token)

	keySchemaVersion = []byte("schema_version")
	keyAdminToken    = []byte("admin_token_sha256")
	keyEnvTokenTag   = []byte("env_token_tag") // fingerprint of the DARKSHARE_ADMIN_TOKEN of the last start
)

// DB is a bbolt-backed store. It is safe for concurrent use.
type DB struct {
	bolt   *bolt.DB
	counts counts // the click counts not folded into day records yet (counts.go)
}

// Option changes how Open opens a db.
type Option func(*DB)

// WithClock has the db read the time from now rather than time.Now: it
// decides when counts are folded into the day records.
func WithClock(now func() time.Time) Option { return func(db *DB) { db.counts.now = now } }

// Open opens or creates the db at path, creates its buckets and records the
// schema version. It fails within OpenTimeout if another process holds the
// file, and with ErrSchemaVersion for a db of another version. The click
// counts not folded yet are read at the first use of counts (LoadCounts),
// so that tools that need none (check, backup) open a db whatever its log
// holds.
func Open(path string, opts ...Option) (*DB, error) {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: OpenTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the file is locked by another process (is darkshare already running on it?)", path)
	}
	if pathErr := (*fs.PathError)(nil); errors.As(err, &pathErr) {
		return nil, err // it names the path already
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{bolt: bdb, counts: counts{now: time.Now, applied: make(map[uint64]uint64)}}
	for _, o := range opts {
		o(db)
	}
	if err := bdb.Update(initSchema); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func initSchema(tx *bolt.Tx) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keySchemaVersion); v != nil && string(v) != strconv.Itoa(SchemaVersion) {
			return fmt.Errorf("%w: the db has version %q, this darkshare reads version %d only (a db from a development build: start from a new file)", ErrSchemaVersion, v, SchemaVersion)
		}
	}
	for _, name := range [][]byte{bucketMeta, bucketLinks, bucketTargets, bucketDays, bucketLog, bucketChecks, bucketSessions, bucketSalts, bucketKeys} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
}

// Close closes the file. Pending writes of callers must be done first.
func (db *DB) Close() error { return db.bolt.Close() }

// Backup writes a consistent snapshot of the whole db to w, in one read
// transaction: writers go on meanwhile. The copy is a db file darkshare opens.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Size returns the size in bytes of the db file.
func (db *DB) Size() int64 {
	var n int64
	_ = db.bolt.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Check runs bbolt's consistency check and returns every problem it found, joined.
func (db *DB) Check() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// Get implements link.Store.
func (db *DB) Get(_ context.Context, code string) (link.Link, error) {
	var l link.Link
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		l, err = getLink(tx, code)
		return err
	})
	return l, err
}

// Each implements link.Store, in one read transaction.
func (db *DB) Each(ctx context.Context, fn func(link.Link) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLinks).ForEach(func(k, v []byte) error {
			var l link.Link
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decode link %s: %w", k, err)
			}
			return fn(l)
		})
	})
}

func getLink(tx *bolt.Tx, code string) (link.Link, error) {
	v := tx.Bucket(bucketLinks).Get([]byte(code))
	if v == nil {
		return link.Link{}, link.ErrNotFound
	}
	var l link.Link
	// Unmarshal copies into l, so nothing of the transaction's memory escapes.
	if err := json.Unmarshal(v, &l); err != nil {
		return link.Link{}, fmt.Errorf("decode link %s: %w", code, err)
	}
	return l, nil
}

func targetKey(url string, ch link.Channel) []byte {
	return []byte(url + "\x00" + string(ch))
}

// ByURL implements link.Store.
func (db *DB) ByURL(_ context.Context, url string) ([]link.Link, error) {
	links := []link.Link{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := []byte(url + "\x00")
		c := tx.Bucket(bucketTargets).Cursor()
		for k, code := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, code = c.Next() {
			l, err := getLink(tx, string(code))
			if err != nil {
				return err
			}
			links = append(links, l)
		}
		return nil
	})
	slices.SortFunc(links, func(a, b link.Link) int {
		return slices.Index(link.Channels, a.Channel) - slices.Index(link.Channels, b.Channel)
	})
	return links, err
}

// Mint implements link.Store. Existing links are read without taking the
// writer lock, so repeated mints of a known page never write.
func (db *DB) Mint(_ context.Context, url string, channels []link.Channel, create func(link.Channel) (link.Link, error)) ([]link.Link, error) {
	var links []link.Link
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		links, err = existingLinks(tx, url, channels)
		return err
	})
	if err == nil {
		return links, nil
	}
	if !errors.Is(err, link.ErrNotFound) {
		return nil, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		links = links[:0]
		for _, ch := range channels {
			l, err := mintOne(tx, url, ch, create)
			if err != nil {
				return err
			}
			links = append(links, l)
		}
		return nil
	})
	return links, err
}

// MintMany implements link.Store.
func (db *DB) MintMany(_ context.Context, targets []link.Target, create func(string, link.Channel) (link.Link, error)) (int, error) {
	created := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		created = 0
		for _, t := range targets {
			for _, ch := range t.Channels {
				existed := tx.Bucket(bucketTargets).Get(targetKey(t.URL, ch)) != nil
				if _, err := mintOne(tx, t.URL, ch, func(ch link.Channel) (link.Link, error) { return create(t.URL, ch) }); err != nil {
					return err
				}
				if !existed {
					created++
				}
			}
		}
		return nil
	})
	return created, err
}

func existingLinks(tx *bolt.Tx, url string, channels []link.Channel) ([]link.Link, error) {
	links := make([]link.Link, 0, len(channels))
	targets := tx.Bucket(bucketTargets)
	for _, ch := range channels {
		code := targets.Get(targetKey(url, ch))
		if code == nil {
			return links, link.ErrNotFound
		}
		l, err := getLink(tx, string(code))
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	return links, nil
}

const mintAttempts = 5

func mintOne(tx *bolt.Tx, url string, ch link.Channel, create func(link.Channel) (link.Link, error)) (link.Link, error) {
	targets, linksB := tx.Bucket(bucketTargets), tx.Bucket(bucketLinks)
	if code := targets.Get(targetKey(url, ch)); code != nil {
		return getLink(tx, string(code))
	}
	for range mintAttempts {
		l, err := create(ch)
		if err != nil {
			return link.Link{}, err
		}
		l.URL, l.Channel = url, ch // the targets key says so, whatever create set
		if linksB.Get([]byte(l.Code)) != nil {
			continue
		}
		v, err := json.Marshal(l)
		if err != nil {
			return link.Link{}, fmt.Errorf("encode link: %w", err)
		}
		if err := linksB.Put([]byte(l.Code), v); err != nil {
			return link.Link{}, fmt.Errorf("put link %s: %w", l.Code, err)
		}
		if err := targets.Put(targetKey(url, ch), []byte(l.Code)); err != nil {
			return link.Link{}, fmt.Errorf("put target of %s: %w", l.Code, err)
		}
		return l, nil
	}
	return link.Link{}, fmt.Errorf("%w after %d attempts", link.ErrCodeTaken, mintAttempts)
}

// Update implements link.Store.
func (db *DB) Update(_ context.Context, code string, change func(*link.Link) error) (link.Link, error) {
	var l link.Link
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		if l, err = getLink(tx, code); err != nil {
			return err
		}
		before := l
		if err := change(&l); err != nil {
			return err
		}
		if l.Code != before.Code || l.URL != before.URL || l.Channel != before.Channel {
			return fmt.Errorf("update of link %s changed its code, url or channel", code)
		}
		v, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("encode link: %w", err)
		}
		return tx.Bucket(bucketLinks).Put([]byte(code), v)
	})
	return l, err
}

// LoadSalt returns the salt of day, or an error wrapping track.ErrNoSalt.
func (db *DB) LoadSalt(_ context.Context, day int64) ([]byte, error) {
	var salt []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSalts).Get(saltKey(day))
		if v == nil {
			return track.ErrNoSalt
		}
		salt = bytes.Clone(v)
		return nil
	})
	return salt, err
}

func saltKey(day int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(day)) }

// SaltOf implements track.SaltStore. Deleting a key frees its page for
// reuse, and bbolt reuses free pages on the next writes, which come every
// flush interval; the old salt's bytes do not outlive that by long.
func (db *DB) SaltOf(_ context.Context, day int64, candidate []byte) ([]byte, error) {
	var salt []byte
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSalts)
		var old [][]byte
		err := b.ForEach(func(k, _ []byte) error {
			if len(k) != 8 || int64(binary.BigEndian.Uint64(k)) < day {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		if v := b.Get(saltKey(day)); v != nil {
			salt = bytes.Clone(v)
			return nil
		}
		salt = bytes.Clone(candidate)
		return b.Put(saltKey(day), salt)
	})
	return salt, err
}

// AdminToken implements auth.Store.
func (db *DB) AdminToken(_ context.Context) (auth.StoredAdminToken, error) {
	var st auth.StoredAdminToken
	err := db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		st.Hash = bytes.Clone(meta.Get(keyAdminToken))
		st.EnvTag = bytes.Clone(meta.Get(keyEnvTokenTag))
		return nil
	})
	return st, err
}

// SetAdminTokenHashIfAbsent implements auth.Store, in one write
// transaction: bbolt's one writer at a time makes it atomic.
func (db *DB) SetAdminTokenHashIfAbsent(_ context.Context, hash []byte) ([]byte, error) {
	var stored []byte
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyAdminToken); v != nil {
			stored = bytes.Clone(v)
			return nil
		}
		stored = bytes.Clone(hash)
		return meta.Put(keyAdminToken, stored)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// SetAdminTokenHash implements auth.Store.
func (db *DB) SetAdminTokenHash(_ context.Context, hash []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyAdminToken, hash)
	})
}

// SetEnvTokenTag implements auth.Store.
func (db *DB) SetEnvTokenTag(_ context.Context, tag []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tag == nil {
			return tx.Bucket(bucketMeta).Delete(keyEnvTokenTag)
		}
		return tx.Bucket(bucketMeta).Put(keyEnvTokenTag, tag)
	})
}

// PutSession implements auth.Store. A session is stored as its expiry
// (unix ns, BE) followed by the fingerprint of its admin token.
func (db *DB) PutSession(_ context.Context, hash []byte, s auth.Session) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		now := time.Now()
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			old, ok := decodeSession(v)
			if !ok || !now.Before(old.Expires) || !bytes.Equal(old.Token, s.Token) {
				dead = append(dead, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		v := binary.BigEndian.AppendUint64(nil, uint64(s.Expires.UnixNano()))
		return b.Put(hash, append(v, s.Token...))
	})
}

// decodeSession reads a stored session. Sessions written before they were
// bound to a token have no fingerprint, and so match no token.
func decodeSession(v []byte) (auth.Session, bool) {
	if len(v) < 8 {
		return auth.Session{}, false
	}
	return auth.Session{
		Expires: time.Unix(0, int64(binary.BigEndian.Uint64(v))),
		Token:   bytes.Clone(v[8:]),
	}, true
}

// Session implements auth.Store.
func (db *DB) Session(_ context.Context, hash []byte) (auth.Session, error) {
	var s auth.Session
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var ok bool
		if s, ok = decodeSession(tx.Bucket(bucketSessions).Get(hash)); !ok {
			return auth.ErrNoSession
		}
		return nil
	})
	return s, err
}

// DeleteSessions implements auth.Store.
func (db *DB) DeleteSessions(_ context.Context) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketSessions); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketSessions)
		return err
	})
}

// DeleteSession implements auth.Store.
func (db *DB) DeleteSession(_ context.Context, hash []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete(hash)
	})
}
