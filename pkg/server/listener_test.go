package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

// guard bounds how long a test waits for the server to act; it is a test
// deadline, far above the timeouts under test, not a measurement.
const guard = 30 * time.Second

// dialFrom opens a connection to env's listener from the local address ip
// (any of 127.0.0.0/8 reaches the loopback).
func dialFrom(t *testing.T, env *testEnv, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", env.ln.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", ip, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip sends GET /healthz on c, keeping it open, and returns the status.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) (int, error) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(guard))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: s.test\r\n\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, err
}

// mustServe fails the test unless c answers a request with 200.
func mustServe(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if status, err := roundTrip(t, c, br); err != nil || status != http.StatusOK {
		t.Fatalf("GET /healthz on an open connection: %d, %v", status, err)
	}
}

// readUntilClosed reads from c until the server closes it and returns what
// came. It fails the test if the server still holds c after guard.
func readUntilClosed(t *testing.T, c net.Conn, r io.Reader) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	b, err := io.ReadAll(r)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server still holds the connection after %s (read %q)", guard, b)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func TestTimeoutsCloseConnections(t *testing.T) {
	// Each server has one short timeout and the others far beyond the
	// test's guard, so only the timeout under test can close a connection.
	const short, long = 200 * time.Millisecond, time.Hour
	read := startServerConfig(t, func(c *Config) { c.Conns = Conns{ReadTimeout: short, WriteTimeout: long, IdleTimeout: long} })
	idle := startServerConfig(t, func(c *Config) { c.Conns = Conns{ReadTimeout: long, WriteTimeout: long, IdleTimeout: short} })
	write := startServerConfig(t, func(c *Config) { c.Conns = Conns{ReadTimeout: long, WriteTimeout: short, IdleTimeout: long} })

	t.Run("silent", func(t *testing.T) {
		c := dialFrom(t, read, "127.0.0.1")
		if got := readUntilClosed(t, c, c); got != "" && !strings.HasPrefix(got, "HTTP/1.1 408") {
			t.Errorf("answer to a silent connection: %q", got)
		}
	})
	t.Run("half a header", func(t *testing.T) {
		c := dialFrom(t, read, "127.0.0.1")
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: s.test\r\nUser-Ag"); err != nil {
			t.Fatal(err)
		}
		if got := readUntilClosed(t, c, c); !strings.HasPrefix(got, "HTTP/1.1 408") {
			t.Errorf("answer to half a header: %q, want a 408", got)
		}
	})
	t.Run("half a header after a request", func(t *testing.T) {
		c := dialFrom(t, read, "127.0.0.1")
		br := bufio.NewReader(c)
		mustServe(t, c, br)
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: s.test\r\nUser-Ag"); err != nil {
			t.Fatal(err)
		}
		if got := readUntilClosed(t, c, br); !strings.HasPrefix(got, "HTTP/1.1 408") {
			t.Errorf("answer to half a second header: %q, want a 408", got)
		}
	})
	t.Run("header trickling in", func(t *testing.T) {
		// A byte at a time, each well within the timeout: the read timeout
		// bounds the whole request, not each read. First on a fresh
		// connection, then as a keep-alive connection's second request.
		for _, first := range []bool{true, false} {
			c := dialFrom(t, read, "127.0.0.1")
			br := bufio.NewReader(c)
			if !first {
				mustServe(t, c, br)
			}
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nX-Slow: "); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					if _, err := io.WriteString(c, "a"); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			readUntilClosed(t, c, br)
			close(stop)
			<-done
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c := dialFrom(t, idle, "127.0.0.1")
		br := bufio.NewReader(c)
		mustServe(t, c, br)
		mustServe(t, c, br)
		if got := readUntilClosed(t, c, br); got != "" {
			t.Errorf("idle connection got %q", got)
		}
	})
	t.Run("responses not read", func(t *testing.T) {
		// Pipelined requests for far more than the socket buffers hold (4
		// MiB for sending here), from a client that reads nothing: the
		// server's write stalls until the write timeout ends it.
		c := dialFrom(t, write, "127.0.0.1")
		if err := c.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			t.Fatal(err)
		}
		mustServe(t, c, bufio.NewReader(c)) // the server holds c
		requests := strings.Repeat("GET /static/css/darkshare.css HTTP/1.1\r\nHost: s.test\r\n\r\n", 4000)
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			_, _ = io.WriteString(c, requests) // ends when the server closes, if not before
		}()
		deadline := time.Now().Add(guard)
		for write.ln.open() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the server still writes to a client that reads nothing after %s", guard)
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = c.Close()
		<-sent
	})
}

func TestConnectionCaps(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		env := startServerConfig(t, func(c *Config) { c.Conns.Max, c.Conns.MaxPerIP = 0, 2 })
		var open []net.Conn
		var readers []*bufio.Reader
		for range 2 {
			c := dialFrom(t, env, "127.0.0.2")
			br := bufio.NewReader(c)
			mustServe(t, c, br)
			open, readers = append(open, c), append(readers, br)
		}
		over := dialFrom(t, env, "127.0.0.2")
		got := readUntilClosed(t, over, over)
		if !strings.HasPrefix(got, "HTTP/1.1 429") || !strings.Contains(got, `"code":"too_many_connections"`) {
			t.Fatalf("third connection from one address: %q, want a 429 too_many_connections", got)
		}
		for i, c := range open {
			mustServe(t, c, readers[i])
		}
		// Another address has its own count; the test's trusted proxy,
		// 127.0.0.1, has none.
		other := dialFrom(t, env, "127.0.0.3")
		mustServe(t, other, bufio.NewReader(other))
		for range 3 {
			c := dialFrom(t, env, "127.0.0.1")
			mustServe(t, c, bufio.NewReader(c))
		}
		// A closed connection frees its place.
		_ = open[0].Close()
		waitAccepted(t, env, "127.0.0.2")
	})
	t.Run("overall", func(t *testing.T) {
		env := startServerConfig(t, func(c *Config) { c.Conns.Max, c.Conns.MaxPerIP = 3, 0 })
		var open []net.Conn
		var readers []*bufio.Reader
		for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
			c := dialFrom(t, env, ip)
			br := bufio.NewReader(c)
			mustServe(t, c, br)
			open, readers = append(open, c), append(readers, br)
		}
		over := dialFrom(t, env, "127.0.0.4")
		got := readUntilClosed(t, over, over)
		if !strings.HasPrefix(got, "HTTP/1.1 503") || !strings.Contains(got, `"code":"server_full"`) {
			t.Fatalf("fourth connection: %q, want a 503 server_full", got)
		}
		for i, c := range open {
			mustServe(t, c, readers[i])
		}
		_ = open[1].Close()
		waitAccepted(t, env, "127.0.0.4")
	})
}

// waitAccepted dials from ip until a connection is served: the server
// releases a closed connection's place when it reads the close.
func waitAccepted(t *testing.T, env *testEnv, ip string) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for time.Now().Before(deadline) {
		c := dialFrom(t, env, ip)
		status, err := roundTrip(t, c, bufio.NewReader(c))
		if err == nil && status == http.StatusOK {
			return
		}
		_ = c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no connection from %s was served after one closed", ip)
}

func TestClientKey(t *testing.T) {
	l := NewListener(nil, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}})
	tests := []struct {
		addr    string
		key     string
		counted bool
	}{
		{"192.0.2.7:4000", "192.0.2.7", true},
		{"[::ffff:192.0.2.7]:4000", "192.0.2.7", true},
		{"[2001:db8:1:2:aaaa::1]:4000", "2001:db8:1:2::", true},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:80", "2001:db8:1:2::", true},
		{"[2001:db8:1:3::1]:80", "2001:db8:1:3::", true},
		{"10.0.0.1:5000", "10.0.0.1", false},
	}
	for _, tt := range tests {
		key, counted := l.clientKey(net.TCPAddrFromAddrPort(netip.MustParseAddrPort(tt.addr)))
		if key.String() != tt.key || counted != tt.counted {
			t.Errorf("clientKey(%s) = %s, %v; want %s, %v", tt.addr, key, counted, tt.key, tt.counted)
		}
	}
	if _, counted := l.clientKey(&net.UnixAddr{Name: "/run/s", Net: "unix"}); counted {
		t.Error("a unix socket peer is counted per address")
	}
}

func TestConnsFor(t *testing.T) {
	tests := []struct {
		limit         uint64
		max, maxPerIP int
	}{
		{0, maxDefaultConns, defaultMaxPerIP},
		{1 << 20, maxDefaultConns, defaultMaxPerIP},
		{maxDefaultConns + fdReserve, maxDefaultConns, defaultMaxPerIP},
		{4096, 4096 - fdReserve, defaultMaxPerIP},
		{1024, 1024 - fdReserve, 1024 - fdReserve},
		{64, 48, 48},
	}
	for _, tt := range tests {
		c := connsFor(tt.limit)
		if c.Max != tt.max || c.MaxPerIP != tt.maxPerIP || c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0 {
			t.Errorf("connsFor(%d) = %+v, want max %d, per address %d, all timeouts set", tt.limit, c, tt.max, tt.maxPerIP)
		}
	}
}

func TestShutdownClosesConnectionsWaitingForARequest(t *testing.T) {
	// Timeouts far beyond the test's guard: only Shutdown can close these.
	env := startServerConfig(t, func(c *Config) {
		c.Conns.ReadTimeout, c.Conns.IdleTimeout = time.Hour, time.Hour
	})
	idle := dialFrom(t, env, "127.0.0.1")
	idleReader := bufio.NewReader(idle)
	mustServe(t, idle, idleReader)
	silent := dialFrom(t, env, "127.0.0.1")
	half := dialFrom(t, env, "127.0.0.1")
	if _, err := io.WriteString(half, "GET /healthz HTTP/1.1\r\nHo"); err != nil {
		t.Fatal(err)
	}
	// Shutdown closes the listener: wait until the server holds all three.
	deadline := time.Now().Add(guard)
	for env.ln.open() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the server accepted %d connections of 3", env.ln.open())
		}
		time.Sleep(time.Millisecond)
	}

	done := make(chan error, 1)
	go func() { done <- Shutdown(env.app, env.ln, time.Minute) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(guard):
		t.Fatalf("shutdown still waits after %s on connections with no request in a handler", guard)
	}
	readUntilClosed(t, idle, idleReader)
	readUntilClosed(t, silent, silent)
	readUntilClosed(t, half, half)
}
