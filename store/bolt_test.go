package store

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
)

// mustOpen opens a fresh db in t.TempDir(); its cleanup runs bbolt's
// consistency check, then closes it.
func mustOpen(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "darkshare.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			return // closed by the test, which reopened the file
		} else if err != nil {
			t.Errorf("db check: %v", err)
		}
		_ = db.Close()
	})
	return db, path
}

var ctx = context.Background()

func creator(codes ...string) func(link.Channel) (link.Link, error) {
	i := 0
	return func(ch link.Channel) (link.Link, error) {
		if i >= len(codes) {
			return link.Link{}, errors.New("creator ran out of codes")
		}
		i++
		return link.Link{Code: codes[i-1], Channel: ch, StatsKey: "k" + codes[i-1], CreatedAt: time.Unix(1700000000, 0).UTC()}, nil
	}
}

func TestMintIsIdempotentAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.Mint(ctx, "https://a.org/x", []link.Channel{link.Email, link.SMS}, creator("c1", "c2"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.Mint(ctx, "https://a.org/x", []link.Channel{link.SMS, link.Email, link.QR}, creator("c3"))
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Code != "c1" || first[1].Code != "c2" || again[0].Code != "c2" || again[1].Code != "c1" || again[2].Code != "c3" {
		t.Fatalf("first %v, again %v", first, again)
	}
	if again[2].URL != "" && again[2].URL != "https://a.org/x" {
		t.Errorf("url %q", again[2].URL)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := db.Get(ctx, "c2")
	if err != nil || l.Channel != link.SMS || l.StatsKey != "kc2" {
		t.Fatalf("after reopen: %+v, %v", l, err)
	}
	if _, err := db.Get(ctx, "nope"); !errors.Is(err, link.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
}

// Open records schema version 1, and refuses any other with
// ErrSchemaVersion, the db file left as it was.
func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	for _, version := range []string{"7", "0", "2", "x"} {
		raw, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = raw.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if v := string(meta.Get(keySchemaVersion)); v != "1" {
				t.Errorf("recorded schema version %q, want 1", v)
			}
			return meta.Put(keySchemaVersion, []byte(version))
		})
		_ = raw.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(path)
		if !errors.Is(err, ErrSchemaVersion) || !strings.Contains(err.Error(), strconv.Quote(version)) {
			t.Fatalf("opening schema %s: %v", version, err)
		}
		raw, err = bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = raw.Update(func(tx *bolt.Tx) error {
			if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != version {
				t.Errorf("a refused open changed the version to %q", v)
			}
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("1"))
		})
		_ = raw.Close()
	}
}

func TestOpenFailsFastWhenLocked(t *testing.T) {
	_, path := mustOpen(t)
	start := time.Now()
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second open: %v", err)
	}
	if waited := time.Since(start); waited > OpenTimeout+3*time.Second {
		t.Fatalf("second open took %s", waited)
	}
}

func TestSessions(t *testing.T) {
	db, _ := mustOpen(t)
	tokenA, tokenB := []byte("fingerprint of A"), []byte("fingerprint of B")
	live, stale, other := []byte("live"), []byte("stale"), []byte("other")
	for hash, s := range map[string]auth.Session{
		"stale": {Expires: time.Now().Add(-time.Minute), Token: tokenA},
		"other": {Expires: time.Now().Add(time.Hour), Token: tokenB},
	} {
		if err := db.PutSession(ctx, []byte(hash), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutSession(ctx, live, auth.Session{Expires: time.Now().Add(time.Hour), Token: tokenA}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, stale); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("an expired session survived the next login: %v", err)
	}
	if _, err := db.Session(ctx, other); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("a session of another admin token survived the next login: %v", err)
	}
	if s, err := db.Session(ctx, live); err != nil || time.Until(s.Expires) < 59*time.Minute || !bytes.Equal(s.Token, tokenA) {
		t.Errorf("live session: %+v, %v", s, err)
	}
	if err := db.DeleteSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, live); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("deleted session: %v", err)
	}
	if st, err := db.AdminToken(ctx); err != nil || st.Hash != nil || st.EnvTag != nil {
		t.Errorf("fresh db admin token: %+v, %v", st, err)
	}
}
