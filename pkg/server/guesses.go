package server

import (
	"container/list"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
)

// errTooManyGuesses refuses a credential check from an address that has
// presented too many wrong ones.
var errTooManyGuesses = errors.New("too many wrong tokens or keys from this address; try again after Retry-After seconds")

// maxGuessers bounds the addresses the guessing limit tracks: about 200
// bytes each, 7 MB in all.
const maxGuessers = 1 << 15

// guesses is the one limit on wrong credentials (bearer tokens, stats keys,
// the login form's admin token) per client address: an IPv4 address or an
// IPv6 /64, which one subscriber usually holds whole. Only failures count,
// in a fixed window that starts with an address's first one. Once an address
// has rate.N of them, its credential checks are refused until the window
// ends, the right ones too: an answer that differed for a right guess would
// let guessing go on. It tracks at most maxGuessers addresses; a new one
// beyond that pushes out the one whose window started first, the nearest to
// ending anyway.
type guesses struct {
	rate Rate
	now  func() time.Time

	mu    sync.Mutex
	addrs map[netip.Addr]*list.Element // of *guessWindow
	order list.List                    // oldest window first
}

type guessWindow struct {
	addr     netip.Addr
	start    time.Time
	failures int
	// checking counts the checks under way. They hold the window's last
	// places, so that a burst of concurrent guesses cannot all pass while
	// the first are still being checked.
	checking int
}

func newGuesses(r Rate, now func() time.Time) *guesses {
	return &guesses{rate: r, now: now, addrs: make(map[netip.Addr]*list.Element)}
}

// guessKey is the address whose failures a client shares.
func guessKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}

// begin asks to check one credential from addr. Over the limit, it returns
// how long addr must wait, and ok false. Otherwise the caller checks the
// credential and must call done, with whether it was wrong.
func (g *guesses) begin(addr netip.Addr) (done func(wrong bool), wait time.Duration, ok bool) {
	if g.rate.Off() {
		return func(bool) {}, 0, true
	}
	key := guessKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.window(key)
	if w != nil && w.failures+w.checking >= g.rate.N {
		return nil, w.start.Add(g.rate.Per).Sub(g.now()), false
	}
	// An address with no failures holds no places: most checks are right,
	// and cost nothing here.
	if w != nil {
		w.checking++
	}
	return func(wrong bool) { g.done(key, w, wrong) }, 0, true
}

func (g *guesses) done(key netip.Addr, w *guessWindow, wrong bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w != nil {
		w.checking--
	}
	if !wrong {
		return
	}
	// The window may have ended or been pushed out meanwhile: count the
	// failure in the current one.
	if cur := g.window(key); cur != nil {
		cur.failures++
		return
	}
	g.add(key)
}

// window returns the live window of key, or nil; it drops an ended one.
func (g *guesses) window(key netip.Addr) *guessWindow {
	e, ok := g.addrs[key]
	if !ok {
		return nil
	}
	w := e.Value.(*guessWindow)
	if g.now().Sub(w.start) < g.rate.Per {
		return w
	}
	g.order.Remove(e)
	delete(g.addrs, key)
	return nil
}

// add opens a window for key with one failure.
func (g *guesses) add(key netip.Addr) {
	if len(g.addrs) >= maxGuessers {
		oldest := g.order.Front()
		g.order.Remove(oldest)
		delete(g.addrs, oldest.Value.(*guessWindow).addr)
	}
	g.addrs[key] = g.order.PushBack(&guessWindow{addr: key, start: g.now(), failures: 1})
}

// credential runs check, one test of a secret the client presented, under
// the guessing limit of its address. check returns an error wrapping
// auth.ErrUnauthorized or errNoStats for a wrong secret, which counts. Over
// the limit, check is not run: the answer is errTooManyGuesses, with
// Retry-After set.
func (s *server) credential(c *fiber.Ctx, check func() error) error {
	done, wait, ok := s.guesses.begin(s.clientIP(c))
	if !ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errTooManyGuesses
	}
	err := check()
	done(errors.Is(err, auth.ErrUnauthorized) || errors.Is(err, errNoStats))
	return err
}
