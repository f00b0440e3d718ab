// Package pgtest gives tests a fresh PostgreSQL database of their own, so
// that they can run in parallel.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/darkshare/darkshare/store/postgres"
)

// EnvURL names the variable that holds the URL of a database tests may
// create databases from, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "DARKSHARE_TEST_POSTGRES"

// ServerURL returns the URL that EnvURL holds. Without one it skips the
// test, or fails it when CI is set: CI must provide a server (.ci/run
// does).
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		skipOutsideCI(t, EnvURL+" is not set: no PostgreSQL to test against (.ci/run starts one; see README's testing section)")
	}
	return u
}

// skipOutsideCI skips the test for want of what msg names, or fails it
// when CI is set: CI must provide what the PostgreSQL tests need, so
// that they never pass there by skipping.
func skipOutsideCI(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// URL creates an empty database with a random name on the server of
// ServerURL and returns its URL, with pools of at most 4 connections
// unless the server URL sets pool_max_conns. The database is dropped at cleanup, after
// the cleanups registered later (closing the test's pools) have run.
func URL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s does not parse as a URL", EnvURL)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "darkshare_test_" + hex.EncodeToString(b[:])
	exec(t, server, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	// Parallel tests each open pools; on a many-core machine the default
	// size (one connection per core) could pass max_connections.
	q := u.Query()
	if !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", "4")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Open returns a store on a fresh database, closed at cleanup.
func Open(t testing.TB) *postgres.DB {
	t.Helper()
	return OpenURL(t, URL(t))
}

// OpenURL returns a store on the database at u, closed at cleanup.
func OpenURL(t testing.TB, u string) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// exec runs one statement on its own connection to the database at u.
func exec(t testing.TB, u, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
