package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func linkStatsClicks(t *testing.T, inst instance, code string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, inst.base+"/api/v1/links/"+code+"/stats", nil)
	req.Header.Set("Authorization", "Bearer "+inst.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct{ Clicks int }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s.Clicks
}

// A backup taken from a running server under load is a db darkshare opens
// and checks; restoring it is starting on it.
func TestBackupWhileServingAndRestore(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DARKSHARE_ADMIN_TOKEN": testAdminToken}
	inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "live.db"), "--flush-interval", "50ms"}, env)
	inst.token = testAdminToken
	code := mintEmail(t, inst, "https://news.example.org/backup")
	clickConcurrently(t, inst, code, 100)

	done := make(chan struct{})
	go func() { // keep clicking while the snapshot is taken
		defer close(done)
		clickConcurrently(t, inst, code, 200)
	}()
	backup := filepath.Join(dir, "snap.db")
	out, err := runCLI(t, env, "backup", "--server", inst.base, backup)
	<-done
	if err != nil || !strings.Contains(out, "check passed") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := os.Stat(backup + ".partial"); !os.IsNotExist(err) {
		t.Error("the partial file was left behind")
	}
	if out, err := runCLI(t, env, "check", "--db", backup); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	restored, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", backup}, env)
	restored.token = testAdminToken
	if got := linkStatsClicks(t, restored, code); got < 100 || got > 300 {
		t.Fatalf("restored db has %d clicks; want the 100 before the backup, and at most the 300 in all", got)
	}
	if _, err := runCLI(t, env, "backup", "--server", inst.base, backup); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	if _, err := runCLI(t, map[string]string{}, "backup", "--server", inst.base, "--token", "wrong", filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("a wrong token got a backup")
	}
}

func TestBackupAndCheckOfAStoppedDB(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.db")
	inst, stop := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, nil)
	code := mintEmail(t, inst, "https://news.example.org/offline")
	clickConcurrently(t, inst, code, 7)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, nil, "backup", "--db", path, filepath.Join(dir, "copy.db"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := storedClicks(t, filepath.Join(dir, "copy.db"), code); got != 7 {
		t.Fatalf("the copy has %d clicks, want 7", got)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a db ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, nil, "check", "--db", garbage); err == nil {
		t.Fatal("check passed a file that is not a db")
	}
	if _, err := runCLI(t, nil, "check", "--db", filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("check passed a missing file")
	}
}

func TestLinksImport(t *testing.T) {
	dir := t.TempDir()
	csvFile := filepath.Join(dir, "links.csv")
	csv := "url,channel\nhttps://a.example/1,email\nhttps://a.example/2,\nftp://bad.example/,email\nhttps://a.example/3,fax\n\"https://A.example/1?utm_source=x\",email\n"
	if err := os.WriteFile(csvFile, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DARKSHARE_DB": madeDB(t)}
	stdout, stderr, err := runCLISplit(t, env, "links", "import", csvFile)
	if err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout, stderr)
	}
	// Row 6 asks again for row 2's link: the URL normalises to the same.
	for _, want := range []string{"Read 5 rows in ", ": 9 links minted, 1 already existed, 2 rows rejected.\n",
		"\n  line 4 rejected: invalid url", "\n  line 5 rejected: unknown channel"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the summary lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "rejected:") {
		t.Errorf("stderr, not a terminal, got carriage returns or the summary's lines:\n%q", stderr)
	}
	stdout, _, err = runCLISplit(t, env, "links", "import", csvFile)
	if err != nil || !strings.Contains(stdout, ": 0 links minted, 10 already existed, 2 rows rejected.") {
		t.Fatalf("a second import minted again: %v\n%s", err, stdout)
	}
	if err := os.WriteFile(csvFile, []byte("address\nhttps://a.example/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, env, "links", "import", csvFile); err == nil {
		t.Fatal("a file without the header was imported")
	}
}

// A row that spans lines (a quoted newline) does not shift the line
// numbers of the rows after it.
func TestLinksImportNamesTheLineOfARowAfterAMultilineOne(t *testing.T) {
	csvFile := filepath.Join(t.TempDir(), "links.csv")
	if err := os.WriteFile(csvFile, []byte("url,channel\n\"https://a.example/\nx\",email\nnot a url,email\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLISplit(t, map[string]string{"DARKSHARE_DB": madeDB(t)}, "links", "import", csvFile)
	if err != nil || !strings.Contains(stdout, "line 4 rejected") {
		t.Fatalf("%v\n%s", err, stdout)
	}
}

// On a terminal the progress line is rewritten in place and ended before
// anything else is written; elsewhere it is a line now and then, never a
// carriage return.
func TestImportProgress(t *testing.T) {
	sum := importSummary{rows: 10_000, minted: 80_000}
	var term strings.Builder
	p := &progress{w: &term, terminal: true, start: time.Now()}
	p.show(sum)
	p.show(sum)
	p.done()
	if got := term.String(); strings.Count(got, "\r") != 2 || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("terminal: %q", got)
	}
	var log strings.Builder
	p = &progress{w: &log, every: 0, start: time.Now()}
	p.show(sum)
	p.show(sum)
	p.done()
	if got := log.String(); strings.Contains(got, "\r") || strings.Count(got, "\n") != 2 || !strings.HasPrefix(got, "10000 rows read, 80000 links minted") {
		t.Errorf("not a terminal, every line: %q", got)
	}
	log.Reset()
	p = &progress{w: &log, every: time.Hour, start: time.Now(), last: time.Now()}
	p.show(sum)
	p.done()
	if log.Len() != 0 {
		t.Errorf("not a terminal, a line before its time: %q", log.String())
	}
}
