package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/darkshare/darkshare/store/postgres"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
	"github.com/darkshare/darkshare/store/storetest"
)

// twoInstances opens two stores, each with its own pool, on one fresh
// database: two instances of darkshare on two machines.
func twoInstances(t *testing.T) (storetest.Store, storetest.Store) {
	u := pgtest.URL(t)
	return pgtest.OpenURL(t, u), pgtest.OpenURL(t, u)
}

func TestContract(t *testing.T) {
	storetest.Run(t, twoInstances)
}

func TestChangeFeed(t *testing.T) {
	storetest.ChangeFeed(t, twoInstances)
}

const password = "s3cr3t-Pa55"

// withUser returns u with user and password in place of its own.
func withUser(t *testing.T, u, user, password string) *url.URL {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed.User = url.UserPassword(user, password)
	return parsed
}

// A server that cannot be reached, or that refuses the credentials, fails
// Open with a message that names the host, database and user, and never
// the password.
func TestOpenErrorsNameTheServerNotThePassword(t *testing.T) {
	t.Parallel()
	server := withUser(t, pgtest.ServerURL(t), "darkshare", password)
	db := strings.TrimPrefix(server.Path, "/")
	closedPort := *server
	closedPort.Host = "127.0.0.1:1"
	wrongUser := withUser(t, server.String(), "no_such_user", password)
	noDB, err := url.Parse(pgtest.ServerURL(t)) // its user may log in
	if err != nil {
		t.Fatal(err)
	}
	noDB.Path = "/no_such_database"
	inQuery := withUser(t, server.String(), "no_such_user", "")
	inQuery.RawQuery = "password=" + password + "&" + inQuery.RawQuery
	tests := []struct {
		name, url string
		want      []string
	}{
		{"closed port", closedPort.String(), []string{"127.0.0.1:1", `database "` + db + `"`, "cannot reach the server"}},
		{"unknown user", wrongUser.String(), []string{server.Host, `user "no_such_user"`, `database "` + db + `"`, "refused the credentials"}},
		{"unknown database", noDB.String(), []string{server.Host, `database "no_such_database"`, "does not exist"}},
		{"password in the query", inQuery.String(), []string{server.Host, "refused the credentials"}},
		{"URL that does not parse", "postgres://u:" + password + "@[::1/db", []string{"cannot parse the database URL"}},
	}
	for _, tt := range tests {
		_, err := postgres.Open(context.Background(), tt.url)
		if err == nil {
			t.Errorf("%s: Open succeeded", tt.name)
			continue
		}
		msg := err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", tt.name, msg, w)
			}
		}
		if strings.Contains(msg, password) {
			t.Errorf("%s: %q shows the password", tt.name, msg)
		}
	}
}

// Instances starting together on a new database migrate one at a time:
// all of them start.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	t.Parallel()
	u := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), u)
			if err == nil {
				_ = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	var applied int
	query(t, u, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`, &applied)
	if applied != int(postgres.SchemaVersion()) {
		t.Errorf("%d migrations recorded, want %d: each once", applied, postgres.SchemaVersion())
	}
}

// A database migrated by a newer darkshare is refused, as the bbolt store
// refuses a newer file.
func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	u := pgtest.URL(t)
	_ = pgtest.OpenURL(t, u)
	newer := postgres.SchemaVersion() + 1
	query(t, u, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true) RETURNING version_id`, new(int64), newer)
	_, err := postgres.Open(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary's") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// The salts table asks autovacuum to remove a deleted salt at once, not
// after 50 dead rows.
func TestSaltsAreVacuumedAtOnce(t *testing.T) {
	t.Parallel()
	u := pgtest.URL(t)
	_ = pgtest.OpenURL(t, u)
	var options []string
	query(t, u, `SELECT reloptions FROM pg_class WHERE relname = 'salts'`, &options)
	if got := strings.Join(options, ","); got != "autovacuum_vacuum_threshold=0,autovacuum_vacuum_scale_factor=0" {
		t.Fatalf("salts options %q", got)
	}
}

// query runs sql on the database at u and scans its one row into dest.
func query(t *testing.T, u, sql string, dest any, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, u) // the URL has pool options
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.QueryRow(ctx, sql, args...).Scan(dest); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("%s: %v", sql, err)
	}
}
