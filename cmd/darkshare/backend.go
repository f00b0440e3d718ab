package main

import (
	"context"
	"flag"
	"io"
	"net/url"
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

// dbUsage is the help text of every --db flag.
const dbUsage = "bbolt database file (created if missing), or a PostgreSQL URL postgres://user:password@host:port/database, shared by several instances (README, \"Running several instances\")"

// dbFlag defines --db on fs, with DARKSHARE_DB as its default, and shows
// that default without a password.
func dbFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	v := envOr(getenv, "DARKSHARE_DB", "./darkshare.db")
	fs.Var(redactedDB{&v}, "db", dbUsage)
	return &v
}
