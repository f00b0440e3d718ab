package link

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"unique"
)

// Route is what a redirect needs of a link, and nothing more, so that every
// link of a large db fits in memory: about 100 bytes each, measured at 1M
// links (docs/PERFORMANCE.md), without campaign parameters or marker; with
// them, each link also holds its own destination.
type Route struct {
	Code string
	URL  string // shared by the links of one page
	// Dest is where the redirect sends the visitor: URL with the link's
	// campaign parameters and landing marker, built once here so that a
	// redirect does not allocate. It is URL itself, sharing its memory, when
	// there are none.
	Dest     string
	Disabled bool
}

// routeIndex holds the route of every link once loaded: a redirect then
// never reads the db, whatever the number of links or how the clicks spread
// over them, and a code that is not in it does not exist.
type routeIndex struct {
	mu     sync.RWMutex
	routes map[string]Route
	loaded atomic.Bool
}

// get returns the route of code. ok is false when code is not in the index;
// complete tells whether that means it does not exist.
func (x *routeIndex) get(code string) (r Route, ok, complete bool) {
	complete = x.loaded.Load() // read first: a route loaded after is a bonus
	x.mu.RLock()
	r, ok = x.routes[code]
	x.mu.RUnlock()
	return r, ok, complete
}

// put records a link's route as it now is.
func (x *routeIndex) put(r Route) {
	x.mu.Lock()
	x.routes[r.Code] = r
	x.mu.Unlock()
}

func (s *Service) routeOf(l Link) Route {
	target := unique.Make(l.URL).Value()
	return Route{Code: l.Code, URL: target, Dest: s.destination(l, target), Disabled: l.Disabled}
}

// Destination returns where the redirect of l sends its visitors: its
// target with its campaign parameters (l's own, or else the service's) and
// the landing marker if the service sets it.
func (s *Service) Destination(l Link) string {
	return s.destination(l, l.URL)
}

func (s *Service) destination(l Link, target string) string {
	p := s.campaign
	if l.Campaign != nil {
		var err error
		if p, err = l.Campaign.canonical().plan(); err != nil {
			// SetCampaign stores only valid campaigns; should a stored one
			// no longer parse, the visitor still gets to the page.
			p = plan{}
		}
	}
	dest, err := p.destination(target, l.Channel, l.Code, s.marker)
	if err != nil { // not a normalised URL: a redirect goes to it as is
		return target
	}
	return dest
}

// LoadRoutes reads every link into the route index. Until it returns, a code
// missing from the index is looked up in the db. Links minted or changed
// meanwhile go through Service and are kept as they are now, not as read.
// It returns the number of links read.
func (s *Service) LoadRoutes(ctx context.Context) (int, error) {
	const batch = 10_000
	n := 0
	pending := make([]Route, 0, batch)
	add := func() {
		s.index.mu.Lock()
		for _, r := range pending {
			if _, ok := s.index.routes[r.Code]; !ok {
				s.index.routes[r.Code] = r
			}
		}
		s.index.mu.Unlock()
		pending = pending[:0]
	}
	err := s.store.Each(ctx, func(l Link) error {
		pending = append(pending, s.routeOf(l))
		n++
		if len(pending) == batch {
			add()
		}
		return ctx.Err()
	})
	if err != nil {
		return n, fmt.Errorf("load the route of every link: %w", err)
	}
	add()
	s.index.loaded.Store(true)
	return n, nil
}

// Route returns what a redirect needs of the link with code, or an error
// wrapping ErrNotFound. code may be borrowed request memory: it is not kept.
// Once LoadRoutes is done, it never reads the db.
func (s *Service) Route(ctx context.Context, code string) (Route, error) {
	if !ValidCode(code) {
		return Route{}, ErrNotFound
	}
	r, ok, complete := s.index.get(code)
	switch {
	case ok:
		return r, nil
	case complete:
		return Route{}, ErrNotFound
	}
	l, err := s.store.Get(ctx, code)
	if err != nil {
		return Route{}, err
	}
	r = s.routeOf(l)
	s.index.put(r)
	return r, nil
}
