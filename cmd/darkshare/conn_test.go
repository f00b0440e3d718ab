package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// guard bounds how long a test waits for the process to act: a test
// deadline, not a measurement.
const guard = 30 * time.Second

// lowerNofile sets the soft RLIMIT_NOFILE of this process to n ("" leaves it).
func lowerNofile(n string) error {
	if n == "" {
		return nil
	}
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return err
	}
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return err
	}
	r.Cur = v
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
}

// lockedBuffer collects a child's stderr while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// child is darkshare's main() in a child process, with its stderr kept.
type child struct {
	instance
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{} // closed when the process has ended
	err    error         // its exit, once exited is closed
}

func startChild(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], args...), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), append(env, "DARKSHARE_TEST_RUN_MAIN=1", "DARKSHARE_ADMIN_TOKEN="+testAdminToken)...)
	c.cmd.Stderr = c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
		if t.Failed() {
			t.Logf("darkshare's stderr:\n%s", c.stderr)
		}
	})
	c.instance = readStartup(t, out)
	c.token = testAdminToken
	return c
}

// waitLog waits until the child's stderr holds s; it fails the test if the
// child exits first or guard passes.
func (c *child) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(guard)
	for !strings.Contains(c.stderr.String(), s) {
		select {
		case <-c.exited:
			t.Fatalf("darkshare exited (%v) before logging %q", c.err, s)
		case <-deadline:
			t.Fatalf("darkshare did not log %q within %s", s, guard)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
		if c.err != nil {
			t.Fatalf("exit after SIGTERM: %v", c.err)
		}
	case <-time.After(guard):
		t.Fatalf("darkshare still runs %s after SIGTERM", guard)
	}
}

func dial(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestOutOfDescriptorsWaitsInsteadOfExiting(t *testing.T) {
	const nofile = 40
	path := filepath.Join(t.TempDir(), "d.db")
	// No caps, so that connections, not the cap, meet the limit.
	c := startChild(t, []string{"DARKSHARE_TEST_NOFILE=" + strconv.Itoa(nofile)},
		"--listen", "127.0.0.1:0", "--db", path, "--max-conns", "0", "--max-conns-per-ip", "0")
	var held []net.Conn
	for range 2 * nofile { // the kernel completes them; darkshare runs out accepting
		held = append(held, dial(t, c.base))
	}
	c.waitLog(t, "out of file descriptors")
	for _, conn := range held {
		_ = conn.Close()
	}
	c.waitLog(t, "file descriptors free again")
	client := &http.Client{Timeout: guard}
	resp, err := client.Get(c.base + "/healthz")
	if err != nil {
		t.Fatalf("after the connections closed: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the connections closed: %d", resp.StatusCode)
	}
	c.stop(t)
}

func TestSIGTERMDoesNotWaitForIdleConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	// Timeouts far beyond the test's guard: only shutdown can close these.
	c := startChild(t, nil, "--listen", "127.0.0.1:0", "--db", path, "--flush-interval", "1h",
		"--read-timeout", "1h", "--idle-timeout", "1h")
	code := mintEmail(t, c.instance, "https://news.example.org/idle")
	const n = 100
	clickConcurrently(t, c.instance, code, n)

	dial(t, c.base) // sends nothing
	half := dial(t, c.base)
	if _, err := io.WriteString(half, "GET /"+code+" HTTP/1.1\r\nHost: s.test\r\nUser-Ag"); err != nil {
		t.Fatal(err)
	}
	// Connections are accepted in order: once this one is answered, the two
	// above are held by the server too.
	idle := dial(t, c.base)
	idleReader := bufio.NewReader(idle)
	if _, err := fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: s.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(idleReader, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("keep-alive request: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)

	c.stop(t)
	// fasthttp's own shutdown waited out its 10 s and logged the timeout.
	if strings.Contains(c.stderr.String(), "msg=shutdown") {
		t.Fatalf("shutdown waited on connections with no request:\n%s", c.stderr)
	}
	if got := storedClicks(t, path, code); got != n {
		t.Fatalf("%d clicks stored, want %d", got, n)
	}
}
