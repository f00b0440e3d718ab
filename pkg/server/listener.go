package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Conns bounds the connections the server holds, so that no client can keep
// the process's descriptors or memory: how long each may take and how many
// there may be. The zero value bounds nothing. Idle and write timeouts hold
// within an eighth of their length (see conn).
type Conns struct {
	// ReadTimeout bounds the reading of one request, header and body
	// together, from its first byte; on a new connection, from accept. A
	// connection that sends half a header is closed when it runs out. There
	// is no separate header timeout: the connection sees bytes, not where a
	// header ends (fasthttp's hook for that runs on every request), and a
	// body is at most 16 KiB, so one bound serves both.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of a response to the connection: a
	// response fasthttp writes at once, or a chunk of a streamed backup or
	// export, so it bounds a stall, not a stream's length.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection; zero means no bound.
	IdleTimeout time.Duration
	// Max caps open connections; 0 means no cap.
	Max int
	// MaxPerIP caps the open connections of one client address (an IPv6
	// /64, which one host usually holds whole), seen on the socket: behind a
	// proxy that is the proxy's. Peers in Config.TrustedProxies are only
	// counted against Max. 0 means no cap.
	MaxPerIP int
}

const (
	// fdReserve is kept back from the descriptor limit for what is not a
	// client connection: the db (and a second handle during a backup),
	// stdio, the listener, the poller, /proc reads of the metrics.
	fdReserve = 64
	// maxDefaultConns bounds the default cap where descriptors are plentiful
	// (systemd and Docker raise the hard limit to 524,288 or more): a
	// keep-alive connection holds a 16 KiB read buffer and a goroutine,
	// about 17 KiB measured, so this many cost under 300 MiB.
	maxDefaultConns = 16 << 10
	// defaultMaxPerIP leaves room for a carrier-grade NAT address, many
	// phones behind one IPv4 address, each with a keep-alive connection.
	defaultMaxPerIP = 1024
)

// DefaultConns returns the bounds the server runs with unless told
// otherwise; the connection cap fits the process's descriptor limit.
func DefaultConns() Conns {
	return connsFor(descriptorLimit())
}

// connsFor returns the default bounds for a process allowed limit open
// descriptors; 0 means unknown.
func connsFor(limit uint64) Conns {
	c := Conns{ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
		Max: maxDefaultConns, MaxPerIP: defaultMaxPerIP}
	if limit == 0 || limit > maxDefaultConns+fdReserve {
		return c
	}
	// A small limit keeps a quarter back rather than leave nothing.
	c.Max = int(limit - min(fdReserve, limit/4))
	c.MaxPerIP = min(c.MaxPerIP, c.Max)
	return c
}

// FitsDescriptors reports whether max connections fit under the process's
// descriptor limit with the reserve kept back, and that limit (0: unknown).
func FitsDescriptors(max int) (bool, uint64) {
	limit := descriptorLimit()
	return limit == 0 || max == 0 || uint64(max)+min(fdReserve, limit/4) <= limit, limit
}

var (
	// errConnsPerIP refuses a connection over Conns.MaxPerIP.
	errConnsPerIP = errors.New("too many open connections from this address; close some and try again")
	// errConnsFull refuses a connection over Conns.Max.
	errConnsFull = errors.New("the server holds as many connections as it may; try again shortly")
)

// Listener wraps a net.Listener for the app: it refuses connections over the
// caps of Conns, applies its timeouts to the others, and waits for
// descriptors to free up when the process runs out of them, where a plain
// listener's Accept error would end the server. It knows its open
// connections, so Shutdown can end those waiting for a request. Create it
// with NewListener; Close closes the wrapped listener.
type Listener struct {
	net.Listener
	cfg     Conns
	trusted []netip.Prefix
	log     *slog.Logger

	// Answers to refused connections, written before the request is read.
	fullAnswer, perIPAnswer []byte

	closing   chan struct{} // closed by Close: a wait for descriptors ends
	closeOnce sync.Once

	mu       sync.Mutex
	conns    map[*conn]struct{}
	perIP    map[netip.Addr]int
	warnedAt [2]time.Time // last refusal logged: [0] full, [1] per address
}

// NewListener wraps ln with the caps of cfg.Conns; cfg.TrustedProxies are
// exempt from the per-address cap. The Listener owns ln.
func NewListener(ln net.Listener, cfg Config) *Listener {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{
		Listener:    ln,
		cfg:         cfg.Conns,
		trusted:     cfg.TrustedProxies,
		log:         log,
		fullAnswer:  refusal(errConnsFull),
		perIPAnswer: refusal(errConnsPerIP),
		closing:     make(chan struct{}),
		conns:       make(map[*conn]struct{}),
		perIP:       make(map[netip.Addr]int),
	}
}

// refusal is the whole HTTP answer to a refused connection: JSON, which API
// clients parse and browsers still show, as no request says which it is.
func refusal(err error) []byte {
	status, code, message := classify(err)
	body := fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, message)
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nConnection: close\r\nCache-Control: no-store\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

// Accept returns the next connection within the caps. Out of descriptors
// (EMFILE, ENFILE), it waits with a growing delay, up to a second, as
// net/http does: pending connections stay in the kernel's queue until some
// close. It returns net.ErrClosed once Close is called.
func (l *Listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !outOfDescriptors(err) {
				return nil, err
			}
			if delay == 0 {
				l.log.Warn("out of file descriptors: new connections wait until some close", "err", err, "open", l.open())
				delay = 5 * time.Millisecond
			} else {
				delay = min(2*delay, time.Second)
			}
			select {
			case <-time.After(delay):
			case <-l.closing:
				return nil, net.ErrClosed
			}
			continue
		}
		if delay > 0 {
			l.log.Info("file descriptors free again: accepting connections", "open", l.open())
			delay = 0
		}
		if tc := l.admit(c); tc != nil {
			return tc, nil
		}
	}
}

func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// admit returns c counted and tracked, or nil after refusing it.
func (l *Listener) admit(c net.Conn) *conn {
	key, counted := l.clientKey(c.RemoteAddr())
	l.mu.Lock()
	var answer []byte
	switch {
	case l.cfg.Max > 0 && len(l.conns) >= l.cfg.Max:
		answer = l.fullAnswer
		l.warnRefusal(0, "refusing connections: --max-conns reached", "max", l.cfg.Max)
	case counted && l.cfg.MaxPerIP > 0 && l.perIP[key] >= l.cfg.MaxPerIP:
		answer = l.perIPAnswer
		// The address is not logged: client addresses are never written.
		l.warnRefusal(1, "refusing connections from an address at --max-conns-per-ip", "max", l.cfg.MaxPerIP)
	}
	if answer != nil {
		l.mu.Unlock()
		// A fresh socket's send buffer takes these bytes without blocking.
		_, _ = c.Write(answer)
		_ = c.Close()
		return nil
	}
	tc := &conn{Conn: c, l: l, key: key, counted: counted}
	l.conns[tc] = struct{}{}
	if counted {
		l.perIP[key]++
	}
	l.mu.Unlock()
	// The first request has ReadTimeout from now, with no idle wait before it.
	tc.bounded = true
	if d := l.cfg.ReadTimeout; d > 0 {
		tc.setRead(time.Now().Add(d))
	}
	return tc
}

// warnRefusal logs a refusal at most once a minute per kind. l.mu is held.
func (l *Listener) warnRefusal(kind int, msg string, args ...any) {
	if now := time.Now(); now.Sub(l.warnedAt[kind]) >= time.Minute {
		l.warnedAt[kind] = now
		l.log.Warn(msg, args...)
	}
}

// clientKey returns the per-address key of a peer, and whether the
// per-address cap applies to it.
func (l *Listener) clientKey(addr net.Addr) (netip.Addr, bool) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ip := tcp.AddrPort().Addr().Unmap()
	for _, p := range l.trusted {
		if p.Contains(ip) {
			return ip, false
		}
	}
	if ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip, true
}

func (l *Listener) release(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	if c.counted {
		if l.perIP[c.key]--; l.perIP[c.key] <= 0 {
			delete(l.perIP, c.key)
		}
	}
	l.mu.Unlock()
}

func (l *Listener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Close closes the wrapped listener and ends a wait for descriptors. It may
// be called more than once; open connections stay open.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closing) })
	return l.Listener.Close()
}

// endReads makes every open connection's pending and next read fail at once.
// A connection in a handler has read its request whole (bodies are not
// streamed), so only connections waiting for a request notice: they close.
func (l *Listener) endReads() {
	past := time.Unix(1, 0)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		_ = c.Conn.SetReadDeadline(past)
	}
}

// conn is an accepted connection, counted until it closes. It applies the
// timeouts of Conns. fasthttp would move a deadline three times a request,
// a runtime timer change each, which cost a redirect 5-8% more server CPU
// (measured against this, and against no timeouts). conn moves the idle and write deadlines only when they are
// an eighth of their timeout stale, and sets the read deadline only for a
// request that does not come in one read; so a keep-alive request costs a
// clock read, not a timer change.
//
// fasthttp reads and writes a connection from one goroutine; the fields
// below are that goroutine's (Listener.endReads uses the net.Conn only).
type conn struct {
	net.Conn
	l       *Listener
	key     netip.Addr
	counted bool // against the per-address cap
	closed  atomic.Bool

	readDL, writeDL time.Time // the deadlines last set
	// wrote: a response was written since the last read, so the next read
	// waits for a new request. started: a read of the current request
	// returned bytes. bounded: the read deadline bounds the current request.
	wrote, started, bounded bool
}

func (c *conn) Read(p []byte) (int, error) {
	cfg := &c.l.cfg
	switch {
	case c.wrote:
		c.wrote, c.started, c.bounded = false, false, false
		if d := cfg.IdleTimeout; d > 0 {
			want := time.Now().Add(d)
			if c.readDL.Before(want) || c.readDL.After(want.Add(d/8)) {
				c.setRead(want.Add(d / 8))
			}
		} else if !c.readDL.IsZero() {
			c.setRead(time.Time{})
		}
	case c.started && !c.bounded:
		// The request did not come whole: it has ReadTimeout to finish,
		// from about its first byte (fasthttp reads again at once).
		c.bounded = true
		if d := cfg.ReadTimeout; d > 0 {
			c.setRead(time.Now().Add(d))
		}
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.started = true
	}
	return n, err
}

func (c *conn) setRead(t time.Time) {
	c.readDL = t
	// An error means the connection is closed; the read will say so.
	_ = c.Conn.SetReadDeadline(t)
}

func (c *conn) Write(p []byte) (int, error) {
	if d := c.l.cfg.WriteTimeout; d > 0 {
		if want := time.Now().Add(d); c.writeDL.Before(want) {
			c.writeDL = want.Add(d / 8)
			_ = c.Conn.SetWriteDeadline(c.writeDL)
		}
	}
	c.wrote = true
	return c.Conn.Write(p)
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c)
	}
	return err
}

// shutdownPoll is how often Shutdown ends the reads of connections that
// went back to waiting for a request since it last did.
const shutdownPoll = 50 * time.Millisecond

// Shutdown stops app, which serves on ln: ln accepts no more, connections
// waiting for a request (idle keep-alive ones, and those that have not sent
// a whole request) close at once, and requests in handlers get until timeout
// to finish. fasthttp's own shutdown only closes connections it saw go idle
// and waits out the rest. Returns context.DeadlineExceeded if some requests
// did not finish in time; their connections are then left to the process's
// exit.
func Shutdown(app *fiber.App, ln *Listener, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- app.ShutdownWithContext(ctx) }()
	tick := time.NewTicker(shutdownPoll)
	defer tick.Stop()
	for {
		// Again on every tick: a request that was in a handler, or a
		// connection accepted just before, may wait for a request again
		// with fasthttp's fresh deadline.
		ln.endReads()
		select {
		case err := <-done:
			return err
		case <-tick.C:
		}
	}
}
