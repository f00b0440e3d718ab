package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
	"github.com/darkshare/darkshare/store/storetest"
)

// The secrets a page's address may carry never reach the db, the
// dashboard or the exports: views of /reset?token=SECRET&p=5 and of
// /u/alice@example.com count for /reset?p=5 and /u/:email. Once with
// everything in a bbolt file, once with links and counts in PostgreSQL.
func TestPageAddressesKeepNoSecrets(t *testing.T) {
	const (
		reset   = "https://news.example.org/reset?token=SECRET&p=5#step2"
		profile = "https://news.example.org/u/alice@example.com"
	)
	secrets := []string{"SECRET", "alice@example.com", "alice%40example.com", "step2"}
	kept := map[string]string{
		reset:   "https://news.example.org/reset?p=5",
		profile: "https://news.example.org/u/:email",
	}
	t.Run("bbolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "darkshare.db")
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		env := newTestEnv(t, db, "https://s.test")
		postSecretViews(t, env, kept)
		if err := env.db.Fold(context.Background()); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		scan(t, "the db file", raw, secrets, stats.PageKey(kept[reset]))
		scanPages(t, env, secrets)
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		pg := pgtest.OpenURL(t, url)
		env := newEnv(t, storetest.MustOpen(t), "https://s.test", envSpec{counts: pg, links: pg, feed: pg})
		postSecretViews(t, env, kept)
		scan(t, "the PostgreSQL tables", dumpTables(t, url), secrets, stats.PageKey(kept[reset]))
		scanPages(t, env, secrets)
	})
}

// postSecretViews posts a view of each page of kept, checks it counts for
// the address kept, and writes the counts to the store.
func postSecretViews(t *testing.T, env *testEnv, kept map[string]string) {
	t.Helper()
	for page, want := range kept {
		if resp, body := env.do(t, http.MethodPost, "/api/v1/views", viewBody(page, "", "", "article"), beaconHeaders("198.51.100.8")); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("view of %s: %d %s", page, resp.StatusCode, body)
		}
		if got := viewsOf(t, env, stats.PageKey(want)); got["view:dark-social"] != 1 {
			t.Errorf("views of %s: %v, want the view of %s", want, got, page)
		}
	}
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// scan fails the test if raw holds a secret, or lacks proof that it holds
// the views at all.
func scan(t *testing.T, what string, raw []byte, secrets []string, proof string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("%s holds %q", what, s)
		}
	}
	if !bytes.Contains(raw, []byte(proof)) {
		t.Errorf("%s lacks %q: the scan proves nothing", what, proof)
	}
}

// scanPages scans the dashboard and every export for the secrets.
func scanPages(t *testing.T, env *testEnv, secrets []string) {
	t.Helper()
	_, page := env.do(t, http.MethodGet, "/dashboard?days=1", "", env.bearer())
	// Long addresses are shown with <wbr> break points, which would hide a
	// secret from a plain search as well as the proof.
	page = strings.ReplaceAll(page, "<wbr>", "")
	scan(t, "the dashboard", []byte(page), secrets, "https://news.example.org/u/:email")
	for _, q := range []string{"format=csv", "format=json", "format=ndjson", "format=csv&by=link", "format=json&by=link"} {
		resp, body := env.do(t, http.MethodGet, "/api/v1/admin/export?days=1&"+q, "", env.bearer())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export %s: %d", q, resp.StatusCode)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("export %s holds %q", q, s)
			}
		}
	}
}

// dumpTables returns every row of every table of the database at url, as
// PostgreSQL writes a row as text, followed by every bytea value of it
// decoded (keys are bytea: a secret would show only as hex).
func dumpTables(t *testing.T, url string) []byte {
	t.Helper()
	ctx := context.Background()
	conn, err := pgxpool.New(ctx, url) // url sets pool_max_conns, which pgx.Connect refuses
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, table := range tables {
		rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(table + "\n" + strings.Join(lines, "\n") + "\n")
	}
	for _, m := range byteaText.FindAllSubmatch(out.Bytes(), -1) {
		b, err := hex.DecodeString(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(b, '\n'))
	}
	return out.Bytes()
}

// byteaText is a bytea value as PostgreSQL writes it in a row's text.
var byteaText = regexp.MustCompile(`\\\\?x((?:[0-9a-f]{2})+)`)
