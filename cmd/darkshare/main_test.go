package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store"
)

// TestMain lets a test run this binary's main() in a child process, for
// signals and kill -9, with DARKSHARE_TEST_NOFILE as its descriptor limit if set.
func TestMain(m *testing.M) {
	if os.Getenv("DARKSHARE_TEST_RUN_MAIN") == "1" {
		if err := lowerNofile(os.Getenv("DARKSHARE_TEST_NOFILE")); err != nil {
			fmt.Fprintln(os.Stderr, "DARKSHARE_TEST_NOFILE:", err)
			os.Exit(2)
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testAdminToken is a DARKSHARE_ADMIN_TOKEN as an operator makes one
// (openssl rand -base64 32): weaker ones are refused at start.
const testAdminToken = "GNSj/UBvspdtWSI5nHBOHYiiDtYGGNV8qqfgVgjQ/m4="

var (
	listeningLine = regexp.MustCompile(`listening on (http://\S+)`)
	tokenLine     = regexp.MustCompile(`admin token .*: (dsa_\S+)`)
)

// instance is a darkshare started by a test.
type instance struct {
	base  string
	token string
}

// readStartup reads the lines run prints at start, up to the listening line.
func readStartup(t *testing.T, out io.Reader) instance {
	t.Helper()
	var inst instance
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := tokenLine.FindStringSubmatch(sc.Text()); m != nil {
			inst.token = m[1]
		}
		if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
			inst.base = m[1]
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return inst
		}
	}
	t.Fatalf("darkshare ended before listening: %v", sc.Err())
	return inst
}

// startInProcess runs run() in a goroutine; stop cancels it and returns its error.
func startInProcess(t *testing.T, args []string, env map[string]string) (instance, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, outW, io.Discard)
		_ = outW.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	inst := readStartup(t, outR)
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return inst, stop
}

// startProcess runs main() in a child process (this test binary, re-executed).
func startProcess(t *testing.T, args ...string) (instance, *exec.Cmd) {
	t.Helper()
	cmd, out := launch(t, nil, args...)
	inst := readStartup(t, out)
	inst.token = testAdminToken
	return inst, cmd
}

// launch starts main() in a child process with the admin token and env
// added to this process's environment, its stderr the test's, killed at
// cleanup. It returns the child and its stdout.
func launch(t *testing.T, env []string, args ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "DARKSHARE_TEST_RUN_MAIN=1", "DARKSHARE_ADMIN_TOKEN="+testAdminToken), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, out
}

func mintEmail(t *testing.T, inst instance, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, inst.base+"/api/v1/links", strings.NewReader(`{"url":"`+url+`","channels":["email"]}`))
	req.Header.Set("Authorization", "Bearer "+inst.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Links []struct{ Code string } `json:"links"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 || len(m.Links) != 1 {
		t.Fatalf("mint: %d %v", resp.StatusCode, err)
	}
	return m.Links[0].Code
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// browserUA makes the test's clicks count: a Go client's own agent is a bot.
const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// clickConcurrently follows the short link n times from 16 clients.
func clickConcurrently(t *testing.T, inst instance, code string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	for range 16 {
		wg.Go(func() {
			for range jobs {
				req, err := http.NewRequest(http.MethodGet, inst.base+"/"+code, nil)
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("User-Agent", browserUA)
				resp, err := noRedirects.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusFound {
					t.Errorf("click: %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
}

// storedClicks opens the (stopped) db and returns the code's stored clicks,
// after bbolt's consistency check.
func storedClicks(t *testing.T, path, code string) uint64 {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("db check: %v", err)
	}
	// A fresh aggregator reads what the reopened db holds: what is stored.
	agg := stats.NewAggregator(db, slog.New(slog.DiscardHandler))
	today := stats.DayOf(time.Now())
	sum, err := agg.Summary(context.Background(), code, stats.Period{From: today - 1, To: today + 1})
	if err != nil {
		t.Fatal(err)
	}
	return sum.Totals[stats.Clicks]
}

func TestShutdownKeepsEveryClickAndRestartKeepsCodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	args := []string{"serve", "--listen", "127.0.0.1:0", "--db", path, "--flush-interval", "1h"}
	inst, stop := startInProcess(t, args, nil)
	if inst.token == "" {
		t.Fatal("first start printed no admin token")
	}
	code := mintEmail(t, inst, "https://news.example.org/e2e")
	const n = 500
	clickConcurrently(t, inst, code, n)
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// The flush interval is an hour: every click on disk was written at shutdown.
	if got := storedClicks(t, path, code); got != n {
		t.Fatalf("after shutdown: %d clicks stored, want %d", got, n)
	}

	again, stop := startInProcess(t, args, nil)
	if again.token != "" {
		t.Fatal("second start printed a new admin token")
	}
	again.token = inst.token
	if c := mintEmail(t, again, "https://news.example.org/e2e"); c != code {
		t.Fatalf("after restart the page's code is %q, was %q", c, code)
	}
	clickConcurrently(t, again, code, 1)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := storedClicks(t, path, code); got != n+1 {
		t.Fatalf("after restart: %d clicks, want %d", got, n+1)
	}
}

func TestSIGTERMKeepsEveryClick(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	inst, cmd := startProcess(t, "--listen", "127.0.0.1:0", "--db", path, "--flush-interval", "1h")
	code := mintEmail(t, inst, "https://news.example.org/term")
	const n = 300
	clickConcurrently(t, inst, code, n)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if got := storedClicks(t, path, code); got != n {
		t.Fatalf("%d clicks stored, want %d", got, n)
	}
}

func TestKill9LosesAtMostOneInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	const interval = 100 * time.Millisecond
	inst, cmd := startProcess(t, "--listen", "127.0.0.1:0", "--db", path, "--flush-interval", interval.String())
	code := mintEmail(t, inst, "https://news.example.org/kill")
	const settled = 200
	clickConcurrently(t, inst, code, settled)
	time.Sleep(5 * interval) // several flushes: these clicks are on disk
	clickConcurrently(t, inst, code, 50)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	got := storedClicks(t, path, code) // opens the db and runs bbolt's check
	if got < settled || got > settled+50 {
		t.Fatalf("%d clicks stored after kill -9; want between %d and %d", got, settled, settled+50)
	}
}

func TestSecondInstanceOnOneDBFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, nil)
	start := time.Now()
	err := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--db", path}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second instance: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("second instance took %s to fail", d)
	}
}

func TestBusyPortFailsAtOnce(t *testing.T) {
	inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "a.db")}, nil)
	addr := strings.TrimPrefix(inst.base, "http://")
	err := run(context.Background(), []string{"--listen", addr, "--db", filepath.Join(t.TempDir(), "b.db")}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("busy port: %v", err)
	}
}

func TestResetAdminToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	args := []string{"--listen", "127.0.0.1:0", "--db", path}
	first, stop := startInProcess(t, args, nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"reset-admin-token", "--db", path}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`dsa_\S+`).FindString(out.String())
	if m == "" || m == first.token {
		t.Fatalf("reset printed %q", out.String())
	}
	inst, _ := startInProcess(t, args, nil)
	for token, want := range map[string]int{first.token: 401, m: 200} {
		req, _ := http.NewRequest(http.MethodPost, inst.base+"/api/v1/links", strings.NewReader(`{"url":"https://x.test/"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %.8s…: %d, want %d", token, resp.StatusCode, want)
		}
	}
}

// The env token is hashed, never stored: not in the db, nor in anything
// a login session leaves there.
func TestEnvTokenIsUsedAndNeverStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	token := randomToken(t)
	env := map[string]string{"DARKSHARE_ADMIN_TOKEN": token, "DARKSHARE_DB": path, "DARKSHARE_LISTEN": "127.0.0.1:0"}
	inst, stop := startInProcess(t, nil, env)
	if inst.token != "" {
		t.Fatal("a token was generated although DARKSHARE_ADMIN_TOKEN is set")
	}
	inst.token = token
	mintEmail(t, inst, "https://anything.test/")
	logIn(t, inst, token)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), token) {
		t.Fatal("the admin token is in the db file")
	}
}

// randomToken returns a token as openssl rand -base64 32 makes one.
func randomToken(t *testing.T) string {
	t.Helper()
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// logIn logs in through the login form with token, as a browser does, and
// returns the session cookie.
func logIn(t *testing.T, inst instance, token string) *http.Cookie {
	t.Helper()
	resp, err := http.Get(inst.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if err != nil || m == nil {
		t.Fatalf("login form: %v, no CSRF field in %s", err, page)
	}
	form := url.Values{"token": {token}, "csrf": {html.UnescapeString(string(m[1]))}}
	resp, err = noRedirects.PostForm(inst.base+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "darkshare_session" {
			return c
		}
	}
	t.Fatalf("login: %d, no session cookie", resp.StatusCode)
	return nil
}

// sessionReads returns the statuses of the dashboard and the backup for a
// browser holding session.
func sessionReads(t *testing.T, inst instance, session *http.Cookie) (dashboard, backup int) {
	t.Helper()
	return get(t, inst.base+"/dashboard", browserUA, session), get(t, inst.base+"/api/v1/admin/backup", browserUA, session)
}

// A session ends when the admin token changes, whichever way it changes:
// another DARKSHARE_ADMIN_TOKEN at the next start, or reset-admin-token.
func TestSessionsEndWhenTheAdminTokenChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	args := []string{"serve", "--listen", "127.0.0.1:0", "--db", path}
	tokenA := randomToken(t)
	inst, stop := startInProcess(t, args, map[string]string{"DARKSHARE_ADMIN_TOKEN": tokenA})
	session := logIn(t, inst, tokenA)
	if d, b := sessionReads(t, inst, session); d != http.StatusOK || b != http.StatusOK {
		t.Fatalf("with token A's session: dashboard %d, backup %d; want 200, 200", d, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	inst, stop = startInProcess(t, args, map[string]string{"DARKSHARE_ADMIN_TOKEN": randomToken(t)})
	if d, b := sessionReads(t, inst, session); d != http.StatusSeeOther || b != http.StatusUnauthorized {
		t.Fatalf("token A's session after a restart with token B: dashboard %d, backup %d; want 303 to the login form, 401", d, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// No env token: the generated one; then reset-admin-token.
	inst, stop = startInProcess(t, args, nil)
	session = logIn(t, inst, inst.token)
	if d, b := sessionReads(t, inst, session); d != http.StatusOK || b != http.StatusOK {
		t.Fatalf("with the generated token's session: dashboard %d, backup %d", d, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"reset-admin-token", "--db", path}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	inst, _ = startInProcess(t, args, nil)
	if d, b := sessionReads(t, inst, session); d != http.StatusSeeOther || b != http.StatusUnauthorized {
		t.Fatalf("a session after reset-admin-token: dashboard %d, backup %d; want 303, 401", d, b)
	}
}

func TestWeakEnvTokenIsRefusedAtStart(t *testing.T) {
	for _, tt := range []struct {
		name, token string
		ok          bool
	}{
		{"four digits", "7391", false},
		{"a word", "admin-secret", false},
		{"short random", "_nPXAFx7mVh9k0fPC1po6", false},
		{"repetitive", strings.Repeat("Password1", 6), false},
		{"43 random base64 characters", "fguuyJoFw9boBLwy92Vs3n8Tup29nk3oE15Cm8fcz4w", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.db")
			env := map[string]string{"DARKSHARE_ADMIN_TOKEN": tt.token}
			if tt.ok {
				inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, env)
				inst.token = tt.token
				mintEmail(t, inst, "https://news.example.org/strong")
				return
			}
			// Cancelled: were the token accepted, run would stop at once
			// instead of serving.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := run(ctx, []string{"--listen", "127.0.0.1:0", "--db", path}, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "DARKSHARE_ADMIN_TOKEN") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
				t.Fatalf("start with %q: %v; want a refusal that says how to make a token", tt.token, err)
			}
		})
	}
}
