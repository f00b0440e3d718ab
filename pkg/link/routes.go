package link

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Route is what a redirect needs of a link, and nothing more, so that every
// link of a large db fits in memory (docs/PERFORMANCE.md).
type Route struct {
	Code string
	URL  string
	// Dest is where the redirect sends the visitor: URL with the link's
	// campaign parameters and landing marker, built once here so that a
	// redirect does not allocate. It is URL itself when there are none.
	Dest     string
	Disabled bool
	// Channel is the link's: a share through it names the channel a
	// reader shared by (a reshare, see the server's shares).
	Channel Channel
}

// routeIndex holds the route of every link once loaded: a redirect then
// never reads the db, whatever the number of links or how the clicks spread
// over them, and a code that is not in it does not exist, or (in a store
// other processes share) did not at the last poll.
//
// Its one owner is Service. Reads from the store only fill gaps (fill);
// every change to a link, this process's or one polled, replaces the
// link's route (put, through Service.changed); a restored db drops them
// all (reset). Routes are never removed otherwise: stores never delete a
// link.
//
// It holds no pointers the collector must follow, so a million links cost
// the collector nothing: codes and URLs are bytes in chunks of an arena, and
// entries refer to them by position. Strings handed out point into the
// arena, which is never written twice, so they stay valid whatever happens
// to the index.
//
// Entries sit in the table itself (open addressing, linear probing, at most
// half full), with their code's hash: with a million links and clicks at
// random, a lookup is a cache miss for the slot and one for the code's bytes,
// which its destination follows. A Go map to entry numbers took a miss or
// two for the map, then one for the entry.
type routeIndex struct {
	mu    sync.RWMutex
	seed  maphash.Seed
	slots []routeEntry // a power of two of them
	used  int
	arena [][]byte // chunks, each filled once and never moved
	// resets counts the resets, so that a read from the store begun
	// before one does not fill the index after it.
	resets uint64
	loaded atomic.Bool
}

type routeEntry struct {
	hash            uint64 // of the code
	code, url, dest span   // code.len is 0 in an empty slot: no code is empty
	disabled        bool
	channel         uint8 // 1 + its place in Channels; 0 for none: in the padding after disabled, so free
}

// span is where a string lies in the arena.
type span struct{ chunk, off, len uint32 }

const (
	arenaChunk   = 1 << 20
	initialSlots = 1 << 10
)

func newRouteIndex() routeIndex {
	return routeIndex{seed: maphash.MakeSeed(), slots: make([]routeEntry, initialSlots)}
}

func (x *routeIndex) str(s span) string {
	if s.len == 0 {
		return ""
	}
	return unsafe.String(&x.arena[s.chunk][s.off], s.len)
}

// store copies s into the arena.
func (x *routeIndex) store(s string) span {
	last := len(x.arena) - 1
	if last < 0 || len(x.arena[last])+len(s) > cap(x.arena[last]) {
		x.arena = append(x.arena, make([]byte, 0, max(arenaChunk, len(s))))
		last++
	}
	c := x.arena[last]
	x.arena[last] = append(c, s...)
	return span{chunk: uint32(last), off: uint32(len(c)), len: uint32(len(s))}
}

func (x *routeIndex) hash(code string) uint64 { return maphash.String(x.seed, code) }

// find returns the slot of code, of the given hash: its entry's if found,
// or else the empty slot where it would go. The caller holds mu.
func (x *routeIndex) find(code string, hash uint64) (slot int, found bool) {
	mask := len(x.slots) - 1
	for i := int(hash) & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.code.len == 0 {
			return i, false
		}
		if e.hash == hash && x.str(e.code) == code {
			return i, true
		}
	}
}

// get returns the route of code. ok is false when code is not in the index;
// complete tells whether that means it does not exist.
func (x *routeIndex) get(code string) (r Route, ok, complete bool) {
	complete = x.loaded.Load() // read first: a route loaded after is a bonus
	hash := x.hash(code)
	x.mu.RLock()
	if i, found := x.find(code, hash); found {
		e := &x.slots[i]
		r, ok = Route{Code: x.str(e.code), URL: x.str(e.url), Dest: x.str(e.dest), Disabled: e.disabled, Channel: channelOfIndex(e.channel)}, true
	}
	x.mu.RUnlock()
	return r, ok, complete
}

// put records a link's route as it now is.
func (x *routeIndex) put(r Route) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.putLocked(r, true)
}

// generation returns the number of resets so far, for fill.
func (x *routeIndex) generation() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.resets
}

// fill records r, read from the store, unless the index holds its code
// already or was reset since generation returned gen: a read racing a
// change may be older than the route put meanwhile, or than the restored
// db.
func (x *routeIndex) fill(r Route, gen uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.resets == gen {
		x.putLocked(r, false)
	}
}

// reset drops every route: the index holds none and is not loaded. Strings
// handed out stay valid: they keep their arena chunk alive.
func (x *routeIndex) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loaded.Store(false)
	x.slots, x.used, x.arena = make([]routeEntry, initialSlots), 0, nil
	x.resets++
}

// putLocked records r, replacing a route of the same code only if replace;
// the caller holds mu. A replaced route's bytes stay in the arena: links
// change rarely, and strings handed out may still point there.
func (x *routeIndex) putLocked(r Route, replace bool) {
	hash := x.hash(r.Code)
	i, found := x.find(r.Code, hash)
	if found && (!replace || x.holds(i, r)) {
		return
	}
	e := routeEntry{hash: hash, disabled: r.Disabled, channel: channelIndex(r.Channel)}
	if found {
		e.code = x.slots[i].code
	} else {
		// The code, then its destination right after it: a redirect
		// compares the one and sends the other, from adjacent bytes.
		e.code = x.store(r.Code)
	}
	e.dest = x.store(r.Dest)
	e.url = e.dest
	if r.URL != r.Dest {
		e.url = x.store(r.URL)
	}
	x.slots[i] = e
	if !found {
		x.used++
		if 2*x.used > len(x.slots) {
			x.grow()
		}
	}
}

// holds reports whether slot i holds r as it is: polling brings back this
// process's own changes, which must not grow the arena again.
func (x *routeIndex) holds(i int, r Route) bool {
	e := &x.slots[i]
	return e.disabled == r.Disabled && e.channel == channelIndex(r.Channel) && x.str(e.dest) == r.Dest && x.str(e.url) == r.URL
}

// channelIndex is 1 + ch's place in Channels, or 0 if it is none of them.
func channelIndex(ch Channel) uint8 { return uint8(slices.Index(Channels, ch) + 1) }

// channelOfIndex is the channel of channelIndex i.
func channelOfIndex(i uint8) Channel {
	if i == 0 || int(i) > len(Channels) {
		return ""
	}
	return Channels[i-1]
}

// grow doubles the table. Entries are plain values, so this is a copy: at
// a million links, once, while they load.
func (x *routeIndex) grow() {
	old := x.slots
	x.slots = make([]routeEntry, 2*len(old))
	mask := len(x.slots) - 1
	for _, e := range old {
		if e.code.len == 0 {
			continue
		}
		i := int(e.hash) & mask
		for x.slots[i].code.len != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = e
	}
}

func (s *Service) routeOf(l Link) Route {
	return Route{Code: l.Code, URL: l.URL, Dest: s.Destination(l), Disabled: l.Disabled, Channel: l.Channel}
}

// Destination returns where the redirect of l sends its visitors: its
// target with its campaign parameters (l's own, or else the service's) and
// the landing marker if the service sets it.
func (s *Service) Destination(l Link) string {
	p := s.campaign
	if l.Campaign != nil {
		var err error
		if p, err = l.Campaign.canonical().plan(); err != nil {
			// SetCampaign stores only valid campaigns; should a stored one
			// no longer parse, the visitor still gets to the page.
			p = plan{}
		}
	}
	dest, err := p.destination(l.URL, l.Channel, l.Code, s.marker)
	if err != nil { // not a normalised URL: a redirect goes to it as is
		return l.URL
	}
	return dest
}

// LoadRoutes reads every link into the route index. Until it returns, a code
// missing from the index is looked up in the db. Links minted or changed
// meanwhile go through Service and are kept as they are now, not as read.
// In a shared store it first notes where the change feed stands (see
// Poll), so that Poll brings every change made during and after the load;
// it returns an error if the feed cannot be read. It returns the number of
// links read; if the db is restored meanwhile (Poll then reloads the
// routes itself), it stops early, with no error.
func (s *Service) LoadRoutes(ctx context.Context) (int, error) {
	if s.feed != nil {
		if err := s.baseline(ctx); err != nil {
			return 0, fmt.Errorf("load the route of every link: %w", err)
		}
	}
	return s.loadRoutes(ctx)
}

// errIndexReset stops a load that a restore made pointless.
var errIndexReset = errors.New("the route index was reset")

func (s *Service) loadRoutes(ctx context.Context) (int, error) {
	const batch = 10_000
	n := 0
	gen := s.index.generation()
	pending := make([]Route, 0, batch)
	add := func() error {
		s.index.mu.Lock()
		defer s.index.mu.Unlock()
		if s.index.resets != gen {
			return errIndexReset
		}
		for _, r := range pending {
			s.index.putLocked(r, false)
		}
		pending = pending[:0]
		return nil
	}
	err := s.store.Each(ctx, func(l Link) error {
		pending = append(pending, s.routeOf(l))
		n++
		if len(pending) == batch {
			if err := add(); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err == nil {
		err = add()
	}
	switch {
	case errors.Is(err, errIndexReset):
		return n, nil
	case err != nil:
		return n, fmt.Errorf("load the route of every link: %w", err)
	}
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if s.index.resets == gen {
		s.index.loaded.Store(true)
	}
	return n, nil
}

// Route returns what a redirect needs of the link with code, or an error
// wrapping ErrNotFound. code may be borrowed request memory: it is not kept.
// Once LoadRoutes is done, it never reads a store of this process's own;
// a shared one only for codes not in the index, within the bounds of
// lookupMissing.
func (s *Service) Route(ctx context.Context, code string) (Route, error) {
	if !ValidCode(code) {
		return Route{}, ErrNotFound
	}
	r, ok, complete := s.index.get(code)
	switch {
	case ok:
		return r, nil
	case complete && s.feed == nil:
		return Route{}, ErrNotFound
	}
	gen := s.index.generation()
	var l Link
	var err error
	if complete {
		l, err = s.lookupMissing(ctx, code)
	} else {
		l, err = s.store.Get(ctx, code)
	}
	if err != nil {
		return Route{}, err
	}
	r = s.routeOf(l)
	s.index.fill(r, gen)
	return r, nil
}

// lookupMissing reads from a shared store a code that the loaded route
// index does not hold: minted by another process since the last poll, or
// more likely by no one. A code found missing within missMemory, or beyond
// MaxMissLookups a second, answers ErrNotFound without a query.
func (s *Service) lookupMissing(ctx context.Context, code string) (Link, error) {
	now := s.now()
	if !s.misses.allow(code, now) {
		return Link{}, ErrNotFound
	}
	l, err := s.store.Get(ctx, code)
	if errors.Is(err, ErrNotFound) {
		s.misses.missed(code, now)
	}
	return l, err
}
