package main

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/store/postgres/pgtest"
)

// testDBPassword stands for a real password in --db URLs: no message, usage
// text or log line may show it.
const testDBPassword = "s3cret-Pa55word"

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// A database that cannot be reached, or that refuses the credentials,
// stops the start with a message naming the host and the database and
// saying what went wrong, never with the password: not in the error, not
// in the log.
func TestServeNamesTheDatabaseItCannotOpen(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		addr := closedPort(t)
		db := "postgres://darkshare:" + testDBPassword + "@" + addr + "/shortlinks?sslmode=disable"
		startFails(t, db, addr, `"shortlinks"`, "cannot reach the server")
	})
	t.Run("credentials refused", func(t *testing.T) {
		srv, err := url.Parse(pgtest.ServerURL(t))
		if err != nil {
			t.Fatal(err)
		}
		// The test server trusts every role it knows: an unknown one is refused.
		srv.User = url.UserPassword("no_such_role", testDBPassword)
		srv.Path = "/shortlinks"
		startFails(t, srv.String(), srv.Host, `"shortlinks"`, `"no_such_role"`, "refused the credentials")
	})
}

// startFails runs serve on db and wants it to fail with an error that says
// each of want, and shows the password nowhere.
func startFails(t *testing.T, db string, want ...string) {
	t.Helper()
	var log strings.Builder
	// Were the database opened, run would serve until the deadline and
	// return nil.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--db", db}, func(string) string { return "" }, &log, &log)
	if err == nil {
		t.Fatal("started on a database it cannot open")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error()+log.String(), testDBPassword) {
		t.Fatalf("the password is shown: %v\n%s", err, log.String())
	}
}

// A --db URL from the environment is a default that -h prints: without
// its password.
func TestUsageHidesTheDBPassword(t *testing.T) {
	env := map[string]string{"DARKSHARE_DB": "postgres://darkshare:" + testDBPassword + "@db.internal/shortlinks"}
	for _, cmd := range [][]string{{"serve", "-h"}, {"keys", "list", "-h"}, {"backup", "-h"}, {"copy", "-h"}, {"reset-admin-token", "-h"}} {
		out, err := runCLI(t, env, cmd...)
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		if strings.Contains(out, testDBPassword) || !strings.Contains(out, "db.internal/shortlinks") {
			t.Fatalf("%v shows:\n%s", cmd, out)
		}
	}
}

// With the data in PostgreSQL, backup and check say what to use instead,
// and touch nothing.
func TestBackupAndCheckOfPostgresSayWhatToUse(t *testing.T) {
	db := "postgres://darkshare:" + testDBPassword + "@" + closedPort(t) + "/shortlinks"
	out, err := runCLI(t, nil, "backup", "--db", db, t.TempDir()+"/b.db")
	if err == nil || !strings.Contains(err.Error(), "pg_dump --exclude-table-data=salts") {
		t.Fatalf("backup --db postgres://…: %v\n%s", err, out)
	}
	out, err = runCLI(t, nil, "check", "--db", db)
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("check --db postgres://…: %v\n%s", err, out)
	}
}
