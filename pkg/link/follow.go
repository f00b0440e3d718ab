package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// DefaultPollInterval is how often Follow should ask the change feed what
// other processes changed: a link disabled on one instance stops
// redirecting on the others within about this, plus a poll's duration.
const DefaultPollInterval = time.Second

// follower is where Poll has got to in the change feed.
type follower struct {
	mu    sync.Mutex // one Poll at a time; guards the fields below
	seq   uint64     // the last change applied
	based bool       // seq is set: until then, what the caches hold predates the feed
	// reload: the db was restored and the route index dropped, but
	// reloading it failed; the next Poll tries again.
	reload bool
}

// Follow calls Poll every interval until ctx ends, logging its errors: a
// failed poll is tried again at the next tick, and redirects go on from
// what is in memory meanwhile. It returns at once if the Service's store is
// not shared (Policy.Feed is nil). The caller owns the goroutine it runs in.
func (s *Service) Follow(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if s.feed == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Poll(ctx); err != nil && ctx.Err() == nil {
			log.Error("read other instances' link changes; trying again", "err", err, "in", interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll applies what other processes changed since the last Poll: it reads
// each changed link again and puts it in every cache that holds it (the
// route index, resolved), and moves Changes on if a link differs from
// what this process held. Its first call (or LoadRoutes's, in a shared
// store) only notes where the feed stands, dropping what the caches hold
// from before. If the feed went back (the db was restored from an older
// copy), Poll drops every cache and reloads the routes. It returns the
// first error from the feed or a read, after which the next Poll carries
// on from the last change applied. Without a feed it does nothing.
func (s *Service) Poll(ctx context.Context) error {
	if s.feed == nil {
		return nil
	}
	s.follow.mu.Lock()
	defer s.follow.mu.Unlock()
	if !s.follow.based {
		return s.baselineLocked(ctx)
	}
	if s.follow.reload {
		if err := s.reloadLocked(ctx); err != nil {
			return err
		}
	}
	stale := false
	defer func() {
		if stale {
			s.changes.Add(1)
		}
	}()
	for {
		changes, latest, err := s.feed.ChangesSince(ctx, s.follow.seq)
		if err != nil {
			return fmt.Errorf("read the changes since %d: %w", s.follow.seq, err)
		}
		if latest < s.follow.seq {
			s.dropAll()
			s.follow.seq, s.follow.reload = latest, true
			return s.reloadLocked(ctx)
		}
		for _, c := range changes {
			if c.Kind == ChangeLink {
				differs, err := s.refresh(ctx, c.Ref)
				if err != nil {
					return fmt.Errorf("read changed link %s: %w", c.Ref, err)
				}
				stale = stale || differs
			}
			s.follow.seq = c.Seq
		}
		s.follow.seq = latest
		if len(changes) < MaxChanges {
			return nil
		}
	}
}

// baseline notes where the change feed stands, once.
func (s *Service) baseline(ctx context.Context) error {
	s.follow.mu.Lock()
	defer s.follow.mu.Unlock()
	if s.follow.based {
		return nil
	}
	return s.baselineLocked(ctx)
}

// baselineLocked notes where the change feed stands and drops every cache:
// what they hold was read before, and a change made between that read and
// now would never be polled. The caller holds follow.mu.
func (s *Service) baselineLocked(ctx context.Context) error {
	// A seq beyond any store's makes the feed answer with its own
	// (ChangeFeed: "latest is the store's sequence").
	_, latest, err := s.feed.ChangesSince(ctx, math.MaxUint64)
	if err != nil {
		return fmt.Errorf("read where the change feed stands: %w", err)
	}
	s.dropAll()
	s.follow.seq, s.follow.based = latest, true
	return nil
}

// reloadLocked loads the routes again after a restore. The caller holds
// follow.mu.
func (s *Service) reloadLocked(ctx context.Context) error {
	if _, err := s.loadRoutes(ctx); err != nil {
		return fmt.Errorf("the db was restored from an older copy: %w", err)
	}
	s.follow.reload = false
	return nil
}

// refresh reads the link with code again and records it as it now is. It
// reports whether it differs from what resolved held (or resolved did not
// hold it), so that answers built from it may be stale.
func (s *Service) refresh(ctx context.Context, code string) (bool, error) {
	l, err := s.store.Get(ctx, code)
	if errors.Is(err, ErrNotFound) {
		// Stores never delete a link; one missing is a restore, which
		// the feed's sequence going back tells, and Poll handles.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.changed(l, false), nil
}

// changed records l as it now is in every cache that holds it: the one way
// a change to a link, made here or by another process, reaches them.
// remember adds it to resolved if it was not there. It reports whether
// resolved held l otherwise or not at all.
func (s *Service) changed(l Link, remember bool) bool {
	s.index.put(s.routeOf(l))
	s.mu.Lock()
	defer s.mu.Unlock()
	old, held := s.resolved[l.Code]
	if held || remember {
		s.rememberLocked(l)
	}
	return !held || !sameLink(old, l)
}

// dropAll empties every cache of links and moves Changes on: the store
// may now say anything. Reads that began before it keep nothing (see
// drops and routeIndex.resets).
func (s *Service) dropAll() {
	s.index.reset()
	s.mu.Lock()
	clear(s.resolved)
	clear(s.codes)
	s.drops++
	s.mu.Unlock()
	s.misses.forget()
	s.changes.Add(1)
}

func sameLink(a, b Link) bool {
	return a.Code == b.Code && a.URL == b.URL && a.Channel == b.Channel && a.CreatedAt.Equal(b.CreatedAt) &&
		a.StatsKey == b.StatsKey && a.Disabled == b.Disabled &&
		(a.Campaign == b.Campaign || a.Campaign != nil && b.Campaign != nil && *a.Campaign == *b.Campaign)
}
