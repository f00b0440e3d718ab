// Package postgres keeps darkshare's links, API keys, the visitor salt and
// a change feed in PostgreSQL, so that several instances can serve one
// site: the database is the one source of truth, and whatever one instance
// must see of another's work is in it.
//
// It implements link.Store, link.ChangeFeed, track.SaltStore,
// auth.KeyStore and auth.Store with the semantics of the bbolt store (package store); the
// contract tests in store/storetest run against both. Uniqueness comes from
// constraints (a code, a URL and channel), never from a read before a
// write, so two instances minting at once agree. The schema is versioned
// by embedded migrations that Open applies under a lock (docs/POSTGRES.md).
//
// It keeps the click counts too (stats.Store, counts.go): each flush is
// added to the tables in one transaction, so every instance reads the
// others' counts once committed.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so that an unreachable server fails Open instead of
// hanging it.
const ConnectTimeout = 10 * time.Second

// MigrationLockTimeout bounds the wait for another instance's migrations.
const MigrationLockTimeout = 5 * time.Minute

// DB is a PostgreSQL-backed store. It is safe for concurrent use, by many
// goroutines and by many processes on the same database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (postgres://user:password@host:port/
// database?options; pgx's pool_max_conns and the libpq options apply),
// checks that it answers, and brings its schema up to date. It returns an
// error naming the host, database and user, never the password, when the
// server cannot be reached or refuses the connection, and an error when the
// database's schema is newer than this binary's. The caller owns the DB
// and must Close it.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, password masked as best it can: say
		// what is expected instead of risking it.
		return nil, errors.New("postgres: cannot parse the database URL; expected postgres://user:password@host:port/database?options")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	if cfg.MaxConns < 2 {
		// The migration lock holds one connection while migrations use another.
		return nil, fmt.Errorf("postgres: pool_max_conns is %d; darkshare needs at least 2", cfg.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, openError(cfg.ConnConfig, err)
	}
	// The pool connects lazily; a bad address or credentials show here.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, openError(cfg.ConnConfig, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: %w", where(cfg.ConnConfig), err)
	}
	return &DB{pool: pool}, nil
}

// Close closes the pool's connections. Pending calls must be done first.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// where names the first host, the database and the user of c.
func where(c *pgx.ConnConfig) string {
	addr := c.Host
	if !strings.HasPrefix(addr, "/") { // not a Unix socket directory
		addr = net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
	}
	return fmt.Sprintf("database %q on %s as user %q", c.Database, addr, c.User)
}

// OpenError is a failure to connect. Its message names the server,
// database and user, and says what went wrong, without the password.
type OpenError struct {
	msg string
	err error
}

func (e *OpenError) Error() string { return e.msg }

// Unwrap gives the driver's error, for errors.Is (a context's deadline).
func (e *OpenError) Unwrap() error { return e.err }

// openError explains err, a failure to connect with c.
func openError(c *pgx.ConnConfig, err error) error {
	what := "cannot connect"
	detail := err.Error()
	var pgErr *pgconn.PgError
	var opErr *net.OpError
	switch {
	case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28"): // invalid_authorization_specification, invalid_password
		what, detail = "the server refused the credentials", pgErr.Message
	case errors.As(err, &pgErr) && pgErr.Code == "3D000": // invalid_catalog_name
		what, detail = "the database does not exist", pgErr.Message
	case errors.As(err, &pgErr):
		what, detail = "the server refused the connection", pgErr.Message
	case errors.As(err, &opErr):
		what, detail = "cannot reach the server", opErr.Err.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		what, detail = "cannot reach the server", "no answer in time"
	}
	if c.Password != "" {
		// The driver's messages do not quote it; this makes sure.
		detail = strings.ReplaceAll(detail, c.Password, "xxxxx")
	}
	return &OpenError{msg: fmt.Sprintf("postgres: %s: %s: %s", where(c), what, detail), err: err}
}

// migrate applies the embedded migrations that the database lacks. goose's
// session locker holds a PostgreSQL advisory lock meanwhile, so instances
// starting together migrate one after the other; the later ones find
// nothing left to do. A database migrated by a newer binary is refused, as
// the bbolt store refuses a newer file: this binary would not know its
// tables.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sqlDB := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	defer sqlDB.Close()
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, uint64(MigrationLockTimeout/time.Second)))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, files,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if known := SchemaVersion(); current > known {
		return fmt.Errorf("schema version %d is newer than this binary's (%d): upgrade darkshare", current, known)
	}
	return nil
}

// SchemaVersion is the version of the newest migration this binary holds.
func SchemaVersion() int64 {
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	var v int64
	for _, e := range entries {
		n, err := goose.NumericComponent(e.Name())
		if err == nil && n > v {
			v = n
		}
	}
	return v
}

// inTx runs fn in a transaction, committed if fn returns nil. PostgreSQL's
// default isolation, read committed, is what the methods expect: each
// statement sees the rows other instances committed before it, which is
// how an insert that lost a race reads the winner.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}
