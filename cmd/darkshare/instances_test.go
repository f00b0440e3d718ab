package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
)

// These tests run several darkshare processes (this test binary, running
// main) on one fresh PostgreSQL database, as a site behind a load
// balancer does. They need DARKSHARE_TEST_POSTGRES (pgtest), and skip
// without it unless CI is set.

// launchOnPostgres starts a darkshare process on the database at dbURL,
// given in DARKSHARE_DB as an operator would, with the shared
// testAdminToken and flush interval, and returns it with its stdout. Its
// log goes to the test's stderr.
func launchOnPostgres(t *testing.T, dbURL string, flush time.Duration) (*exec.Cmd, io.Reader) {
	t.Helper()
	return launch(t, []string{"DARKSHARE_DB=" + dbURL}, "serve", "--listen", "127.0.0.1:0", "--flush-interval", flush.String())
}

// startInstances starts n processes on dbURL at once, so that they also
// migrate the new database together, and waits until each listens.
func startInstances(t *testing.T, dbURL string, n int, flush time.Duration) ([]instance, []*exec.Cmd) {
	t.Helper()
	insts, cmds, outs := make([]instance, n), make([]*exec.Cmd, n), make([]io.Reader, n)
	for i := range n {
		cmds[i], outs[i] = launchOnPostgres(t, dbURL, flush)
	}
	for i := range n {
		insts[i] = readStartup(t, outs[i])
		insts[i].token = testAdminToken
	}
	return insts, cmds
}

// stopAll sends SIGTERM to every process and wants each to exit cleanly.
func stopAll(t *testing.T, cmds ...*exec.Cmd) {
	t.Helper()
	for _, c := range cmds {
		if err := c.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	}
}

// storedCounts returns what the database at dbURL holds of code's clicks
// and unique visitors, summed over yesterday to tomorrow, read as a fresh
// instance would.
func storedCounts(t *testing.T, dbURL, code string) (clicks, uniques uint64) {
	t.Helper()
	ctx := context.Background()
	be, err := openBackend(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer be.close()
	agg := stats.NewAggregator(be.counts, slog.New(slog.DiscardHandler))
	today := stats.DayOf(time.Now())
	sum, err := agg.Summary(ctx, code, stats.Period{From: today - 1, To: today + 1})
	if err != nil {
		t.Fatal(err)
	}
	return sum.Totals[stats.Clicks], sum.Totals[stats.Uniques]
}

// get sends one GET as a browser with the given user agent, and returns the status.
func get(t *testing.T, target, userAgent string, cookie *http.Cookie) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", userAgent)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func setDisabled(t *testing.T, inst instance, code string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, inst.base+"/api/v1/links/"+code, strings.NewReader(`{"disabled":true}`))
	req.Header.Set("Authorization", "Bearer "+inst.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("disable %s: %d", code, resp.StatusCode)
	}
}

var createdKey = regexp.MustCompile(`Created key (\S+)`)

// Three instances on one database: links, disabling, visitors, sessions
// and counts are the site's, whichever instance a request reaches.
func TestInstancesShareOnePostgres(t *testing.T) {
	dbURL := pgtest.URL(t)
	insts, cmds := startInstances(t, dbURL, 3, time.Hour) // every count is written at SIGTERM
	a, b, c := insts[0], insts[1], insts[2]

	// A link minted on one redirects on the others at once.
	code := mintEmail(t, a, "https://news.example.org/shared")
	for _, inst := range []instance{b, c} {
		if s := get(t, inst.base+"/"+code, browserUA, nil); s != http.StatusFound {
			t.Fatalf("a link minted on A answers %d on %s, want 302", s, inst.base)
		}
	}
	// Minting the same page on another instance gives the same code.
	if again := mintEmail(t, c, "https://news.example.org/shared"); again != code {
		t.Fatalf("C mints %s for the page A minted as %s", again, code)
	}

	// Clicks split across the instances add up exactly.
	var wg sync.WaitGroup
	for i, n := range []int{100, 150, 200} {
		wg.Go(func() { clickConcurrently(t, insts[i], code, n) })
	}
	wg.Wait()
	const clicks = 2 + 100 + 150 + 200 // with the two above

	// One visitor (address and agent) through two instances counts once;
	// another agent is another visitor.
	visitorCode := mintEmail(t, b, "https://news.example.org/visitor")
	const otherUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	for _, v := range []struct {
		inst instance
		ua   string
	}{{a, browserUA}, {b, browserUA}, {c, otherUA}} {
		if s := get(t, v.inst.base+"/"+visitorCode, v.ua, nil); s != http.StatusFound {
			t.Fatalf("click: %d", s)
		}
	}

	// A session opened on one instance is good on the others.
	session := logIn(t, a, testAdminToken)
	if s := get(t, b.base+"/dashboard", browserUA, session); s != http.StatusOK {
		t.Fatalf("A's session on B's dashboard: %d, want 200", s)
	}

	// Keys made and revoked in the database, the instances running, hold
	// on every instance at once.
	out, err := runCLI(t, nil, "keys", "create", "--db", dbURL, "--name", "prometheus", "--scopes", "stats:read")
	key, id := keyToken.FindString(out), createdKey.FindStringSubmatch(out)
	if err != nil || key == "" || id == nil {
		t.Fatalf("keys create on the database: %v\n%s", err, out)
	}
	if s, _ := call(t, http.MethodGet, c.base+"/metrics", key, ""); s != http.StatusOK {
		t.Fatalf("a key made in the database, on C: %d", s)
	}
	if out, err := runCLI(t, nil, "keys", "revoke", "--db", dbURL, id[1]); err != nil {
		t.Fatalf("keys revoke: %v\n%s", err, out)
	}
	if s, _ := call(t, http.MethodGet, c.base+"/metrics", key, ""); s != http.StatusUnauthorized {
		t.Fatalf("a key revoked in the database, on C: %d, want 401", s)
	}

	// Backups are pg_dump's: the CLI says so, as the server does, and
	// leaves no file.
	dest := filepath.Join(t.TempDir(), "b.db")
	if out, err := runCLI(t, nil, "backup", "--server", b.base, "--token", testAdminToken, dest); err == nil ||
		!strings.Contains(err.Error(), "409 Conflict") || !strings.Contains(err.Error(), "pg_dump --exclude-table-data=salts") {
		t.Fatalf("backup --server of an instance on PostgreSQL: %v\n%s", err, out)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("a refused backup left %s: %v", dest, err)
	}

	// A link disabled on one answers 410 on the others within 2 s.
	doomed := mintEmail(t, a, "https://news.example.org/doomed")
	for _, inst := range []instance{b, c} {
		if s := get(t, inst.base+"/"+doomed, browserUA, nil); s != http.StatusFound {
			t.Fatalf("before disabling: %d", s)
		}
	}
	setDisabled(t, a, doomed)
	deadline := time.Now().Add(2 * time.Second)
	for _, inst := range []instance{b, c} {
		for get(t, inst.base+"/"+doomed+"?poll", browserUA, nil) != http.StatusGone {
			if time.Now().After(deadline) {
				t.Fatalf("%s still redirects a link disabled on A 2 s ago", inst.base)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	stopAll(t, cmds...)
	if got, _ := storedCounts(t, dbURL, code); got != clicks {
		t.Fatalf("%d clicks stored after SIGTERM, want %d", got, clicks)
	}
	if got, uniques := storedCounts(t, dbURL, visitorCode); got != 3 || uniques != 2 {
		t.Fatalf("one visitor through A and B, another through C: %d clicks, %d visitors; want 3 and 2", got, uniques)
	}
}

// clickLoad clicks code on inst from 4 clients until stop is closed, and
// returns how many clicks were answered with a redirect and how many were
// sent (answered or not: a process killed mid-request may have counted one).
func clickLoad(inst instance, code string, stop <-chan struct{}) (answered, sent *atomic.Int64, done func()) {
	answered, sent = new(atomic.Int64), new(atomic.Int64)
	var wg sync.WaitGroup
	client := &http.Client{CheckRedirect: noRedirects.CheckRedirect, Timeout: 10 * time.Second}
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, inst.base+"/"+code, nil)
				req.Header.Set("User-Agent", browserUA)
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusFound {
					answered.Add(1)
				}
			}
		})
	}
	return answered, sent, wg.Wait
}

// kill -9 of one instance under load: the others go on, nothing is counted
// twice, and the killed one loses at most the clicks of its last flush
// interval: every click it answered before a flush that then completed is
// in the database.
func TestKill9OfOneInstanceUnderLoad(t *testing.T) {
	dbURL := pgtest.URL(t)
	const interval = 100 * time.Millisecond
	insts, cmds := startInstances(t, dbURL, 2, interval)
	a, b := insts[0], insts[1]
	code := mintEmail(t, a, "https://news.example.org/kill")

	stopB := make(chan struct{})
	answeredB, sentB, waitB := clickLoad(b, code, stopB)
	stopA := make(chan struct{})
	answeredA, sentA, waitA := clickLoad(a, code, stopA)
	time.Sleep(3 * interval)
	// The flush running now may have taken its counts before this moment;
	// the one after it cannot have: once two more flushes have completed,
	// every click A answered before now is stored.
	flushed := flushesDone(t, a)
	answeredBefore := answeredA.Load()
	for flushesDone(t, a) < flushed+2 {
		time.Sleep(interval / 10)
	}
	if err := cmds[0].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmds[0].Wait()
	close(stopA)
	waitA()
	time.Sleep(3 * interval) // B goes on alone
	close(stopB)
	waitB()
	if sentB.Load() != answeredB.Load() {
		t.Fatalf("B answered %d of %d clicks while A was killed", answeredB.Load(), sentB.Load())
	}
	stopAll(t, cmds[1])

	got, _ := storedCounts(t, dbURL, code)
	least := uint64(answeredBefore) + uint64(answeredB.Load())
	most := uint64(sentA.Load()) + uint64(answeredB.Load())
	if got < least || got > most {
		t.Fatalf("%d clicks stored; want at least %d (A's answered before its last completed flushes, and all of B's) and at most %d (every click sent to A, %d answered, and B's)",
			got, least, most, answeredA.Load())
	}
	t.Logf("stored %d: A answered %d before its last flushes, %d of %d sent in all; B %d", got, answeredBefore, answeredA.Load(), sentA.Load(), answeredB.Load())
}

// flushesDone returns how many flushes inst has completed without an
// error, from its /metrics.
func flushesDone(t *testing.T, inst instance) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, inst.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+inst.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	values := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if n, err := strconv.Atoi(v); ok && err == nil {
			values[name] = n
		}
	}
	done, ok := values["darkshare_flush_duration_seconds_count"]
	if !ok {
		t.Fatalf("no darkshare_flush_duration_seconds_count in /metrics (%v)", sc.Err())
	}
	return done - values["darkshare_flush_errors_total"]
}

// tcpProxy forwards connections to a PostgreSQL server until it is cut:
// then it closes every open connection and every new one at once, as a
// lost network does to the instances behind it.
type tcpProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

// startProxy forwards a local port to target until the test ends.
func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed at cleanup
		}
		if !p.track(client) {
			_ = client.Close()
			continue
		}
		p.wg.Go(func() { p.forward(client) })
	}
}

// track registers c unless the proxy is cut.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *tcpProxy) forward(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		return
	}
	defer server.Close()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(server, client); _ = server.Close() })
	_, _ = io.Copy(client, server)
	_ = client.Close()
	wg.Wait()
}

// cut closes every connection, and every new one until restore.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// through returns dbURL with its host replaced by the proxy's address.
func (p *tcpProxy) through(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// health returns /healthz's status and reason.
func health(t *testing.T, inst instance) (int, string) {
	t.Helper()
	resp, err := http.Get(inst.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Status, Reason string }
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, h.Reason
}

// waitHealth polls /healthz until it answers want, for up to 10 s.
func waitHealth(t *testing.T, inst instance, want int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, reason := health(t, inst)
		if status == want {
			return reason
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz of %s still answers %d (%s), want %d", inst.base, status, reason, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A database outage under load (a cut proxy between the instances and
// PostgreSQL): redirects go on from memory, /healthz says the database is
// lost, and once it is back every click is in it exactly once.
func TestPostgresOutageUnderLoad(t *testing.T) {
	direct := pgtest.URL(t)
	server, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, server.Host)
	outageUnderLoad(t, proxy.through(t, direct), direct, proxy.cut, proxy.restore)
}

// A PostgreSQL restart under load, on a server of the test's own (the
// shared one must not restart under other tests): the same, including the
// clicks of flushes the stop cut off mid-transaction.
func TestPostgresRestartUnderLoad(t *testing.T) {
	server := pgtest.PrivateServer(t)
	outageUnderLoad(t, server.URL(), server.URL(), func() { server.Stop(t) }, func() { server.Start(t) })
}

// outageUnderLoad runs two instances on dbURL under load, takes the
// database away with down and back with up, and wants every redirect
// answered meanwhile, /healthz (and darkshare healthcheck) to report the
// outage and its end, and every click stored exactly once, read at direct.
func outageUnderLoad(t *testing.T, dbURL, direct string, down, up func()) {
	t.Helper()
	insts, cmds := startInstances(t, dbURL, 2, 100*time.Millisecond)
	a, b := insts[0], insts[1]
	code := mintEmail(t, a, "https://news.example.org/outage")
	for _, inst := range insts { // in every instance's memory before the outage
		if s := get(t, inst.base+"/"+code, browserUA, nil); s != http.StatusFound {
			t.Fatalf("before the outage: %d", s)
		}
	}

	stop := make(chan struct{})
	answeredA, sentA, waitA := clickLoad(a, code, stop)
	answeredB, sentB, waitB := clickLoad(b, code, stop)
	time.Sleep(300 * time.Millisecond)
	down()
	atDownA, atDownB := answeredA.Load(), answeredB.Load()
	for _, inst := range insts {
		if reason := waitHealth(t, inst, http.StatusServiceUnavailable); !strings.Contains(reason, "database") {
			t.Fatalf("/healthz during the outage says %q", reason)
		}
	}
	if out, err := runCLI(t, nil, "healthcheck", "--url", a.base); err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "database") {
		t.Fatalf("healthcheck during the outage: %v\n%s", err, out)
	}
	time.Sleep(500 * time.Millisecond) // several flushes fail meanwhile
	duringA, duringB := answeredA.Load()-atDownA, answeredB.Load()-atDownB
	up()
	for _, inst := range insts {
		waitHealth(t, inst, http.StatusOK)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	waitA()
	waitB()
	if sentA.Load() != answeredA.Load() || sentB.Load() != answeredB.Load() {
		t.Fatalf("redirects failed: A answered %d of %d, B %d of %d", answeredA.Load(), sentA.Load(), answeredB.Load(), sentB.Load())
	}
	if duringA == 0 || duringB == 0 {
		t.Fatalf("redirects during the outage: %d on A, %d on B; want them answered", duringA, duringB)
	}
	stopAll(t, cmds...)

	want := uint64(len(insts)) + uint64(answeredA.Load()+answeredB.Load())
	if got, _ := storedCounts(t, direct, code); got != want {
		t.Fatalf("%d clicks stored after the outage, want exactly %d", got, want)
	}
}
