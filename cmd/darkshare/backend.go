package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/postgres"
)

// backend is the storage darkshare runs on, as the domain packages see it:
// a bbolt file, which one process holds, or a PostgreSQL database, which
// several instances share. --db chooses it (openBackend); serve, the other
// commands and the tests all take it from there, so they cannot drift.
type backend struct {
	links  link.Store
	feed   link.ChangeFeed // other processes' changes; nil when this process holds the store alone
	counts stats.Store
	admin  auth.Store
	keys   auth.KeyStore
	salts  track.SaltStore

	// backup writes a consistent snapshot; nil where the database's own
	// tools take backups (pg_dump).
	backup func(io.Writer) (int64, error)
	// size is the db file's size in bytes; nil where there is no file.
	size func() int64
	// ping checks that the database answers; nil for a local file, which
	// cannot go away while it is open.
	ping func(context.Context) error
	// loadCounts reads the counts a previous run left unfolded, so that a
	// damaged log fails the start; nil when there is nothing to read.
	loadCounts func() error
	// checkpoint leaves the store tidy after the last flush of a clean
	// stop; nil when there is nothing to do.
	checkpoint func(context.Context) error
	close      func() error
}

// isPostgresURL reports whether --db names a PostgreSQL database rather
// than a bbolt file.
func isPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openBackend opens the store --db names: a postgres:// or postgresql://
// URL, or else the path of a bbolt file (created if missing). Errors name
// the file, or the host and database, never a password. The caller owns
// the backend and must close it.
func openBackend(ctx context.Context, db string) (*backend, error) {
	if isPostgresURL(db) {
		return openPostgres(ctx, db)
	}
	return openBolt(db)
}

// openExistingBackend is openBackend for the commands that work on a db
// serve made: a bbolt file that is missing is an error naming it, never a
// new empty db.
func openExistingBackend(ctx context.Context, db string) (*backend, error) {
	if !isPostgresURL(db) {
		if err := dbFlagMustExist(db); err != nil {
			return nil, err
		}
	}
	return openBackend(ctx, db)
}

// dbFlagMustExist is mustExist for a path from --db or DARKSHARE_DB.
func dbFlagMustExist(path string) error {
	err := mustExist(path)
	if errors.Is(err, errNoDB) {
		return fmt.Errorf("%w: check --db or DARKSHARE_DB (serve makes the db at its first start)", err)
	}
	return err
}

// errNoDB is mustExist's error for a missing file; the caller knows which
// flag named the path, so it adds the hint.
var errNoDB = errors.New("no db")

// mustExist returns an error naming path unless it is a file.
func mustExist(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w at %s", errNoDB, path)
	case err != nil:
		return err // a *fs.PathError, which names the path
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a db file", path)
	}
	return nil
}

func openBolt(path string) (*backend, error) {
	db, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	return &backend{
		links: db, counts: db, admin: db, keys: db, salts: db,
		backup: db.Backup, size: db.Size, loadCounts: db.LoadCounts, checkpoint: db.Checkpoint, close: db.Close,
	}, nil
}

func openPostgres(ctx context.Context, dsn string) (*backend, error) {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &backend{links: db, feed: db, counts: db, admin: db, keys: db, salts: db, ping: db.Ping, close: db.Close}, nil
}

// redactedDB is --db as it may be shown: a URL's password masked.
type redactedDB struct{ value *string }

func (r redactedDB) String() string {
	if r.value == nil {
		return ""
	}
	return redactDB(*r.value)
}

func (r redactedDB) Set(v string) error { *r.value = v; return nil }

// redactDB masks the password of a database URL, so that usage text and
// messages can show it; a file path is returned as it is.
func redactDB(db string) string {
	if !isPostgresURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…" // unparsable: show nothing that might be a password
	}
	return u.Redacted()
}

// dbFlag defines --db on fs, with DARKSHARE_DB as its default, and shows
// that default without a password. Only serve creates a db that is
// missing (creates); the other commands open one with openExistingBackend.
func dbFlag(fs *flag.FlagSet, getenv func(string) string, creates bool) *string {
	v := envOr(getenv, "DARKSHARE_DB", "./darkshare.db")
	file := "a bbolt file (it must exist)"
	if creates {
		file = "a bbolt file (created if missing)"
	}
	fs.Var(redactedDB{&v}, "db", "`FILE|URL` of the db: "+file+", or a PostgreSQL database postgres://user:password@host:port/database that several instances share (README, \"Running several instances\")")
	return &v
}
