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
// links (docs/PERFORMANCE.md).
type Route struct {
	Code     string
	URL      string // shared by the links of one page
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

// put records a link as it now is.
func (x *routeIndex) put(l Link) {
	x.mu.Lock()
	x.routes[l.Code] = routeOf(l)
	x.mu.Unlock()
}

func routeOf(l Link) Route {
	return Route{Code: l.Code, URL: unique.Make(l.URL).Value(), Disabled: l.Disabled}
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
		pending = append(pending, routeOf(l))
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
	s.index.put(l)
	return routeOf(l), nil
}
