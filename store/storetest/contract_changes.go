package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
)

// ChangeFeed checks the contract of link.ChangeFeed for a store that
// several processes share: what one instance changes, the other learns.
// (The bbolt store, held by one process, reports nothing.)
func ChangeFeed(t *testing.T, open Opener) {
	runAll(t, open, map[string]func(*testing.T, Opener){
		"ChangesAreListed":        testChangesAreListed,
		"ChangesComeInBatches":    testChangesComeInBatches,
		"RestoredStoreIsReported": testRestoredStoreIsReported,
		"PollerMissesNoChange":    testPollerMissesNoChange,
	})
}

func changesSince(t *testing.T, s Store, seq uint64) ([]link.Change, uint64) {
	t.Helper()
	changes, latest, err := s.ChangesSince(ctx(t), seq)
	if err != nil {
		t.Fatal(err)
	}
	return changes, latest
}

// refs gives the kind:ref of changes, in order.
func refs(changes []link.Change) string {
	s := ""
	for i, c := range changes {
		if i > 0 {
			s += " "
		}
		s += string(c.Kind) + ":" + c.Ref
	}
	return s
}

func testChangesAreListed(t *testing.T, open Opener) {
	s, other := open(t)
	if changes, latest := changesSince(t, other, 0); len(changes) != 0 || latest != 0 {
		t.Fatalf("a new store: %v, latest %d; want none, 0", changes, latest)
	}
	mustMint(t, s, "https://a.org/x", []link.Channel{link.Email, link.SMS}, "c1", "c2")
	mustMint(t, s, "https://a.org/x", []link.Channel{link.Email}) // exists: no change
	if err := s.PutKey(ctx(t), auth.Key{ID: "k1", Name: "n", Scopes: []auth.Scope{auth.ScopeAdmin}, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	changes, minted := changesSince(t, other, 0)
	if refs(changes) != "link:c1 link:c2" || minted != changes[1].Seq || changes[0].Seq >= changes[1].Seq {
		t.Fatalf("after a mint: %+v, latest %d; want c1 and c2 in order, latest the last", changes, minted)
	}
	for range 2 { // two changes of one link since minted: listed once
		if _, err := s.Update(ctx(t), "c1", func(l *link.Link) error { l.Disabled = !l.Disabled; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteKey(ctx(t), "k1"); err != nil {
		t.Fatal(err)
	}
	changes, latest := changesSince(t, other, minted)
	if refs(changes) != "link:c1 key:k1" || latest <= minted {
		t.Fatalf("after updates and a revocation: %+v, latest %d; want c1 once, then k1", changes, latest)
	}
	if changes, again := changesSince(t, other, latest); len(changes) != 0 || again != latest {
		t.Fatalf("nothing new: %+v, latest %d; want none, %d", changes, again, latest)
	}
}

func testChangesComeInBatches(t *testing.T, open Opener) {
	s, other := open(t)
	var targets []link.Target
	for i := range link.MaxChanges + 10 {
		targets = append(targets, link.Target{URL: fmt.Sprintf("https://a.org/%d", i), Channels: []link.Channel{link.Email}})
	}
	if _, err := s.MintMany(ctx(t), targets, newLink); err != nil {
		t.Fatal(err)
	}
	first, latest := changesSince(t, other, 0)
	rest, end := changesSince(t, other, latest)
	if len(first) != link.MaxChanges || len(rest) != 10 || latest != first[len(first)-1].Seq || end != rest[len(rest)-1].Seq {
		t.Fatalf("%d then %d changes (latest %d, %d); want %d then 10", len(first), len(rest), latest, end, link.MaxChanges)
	}
}

// A store whose sequence is behind the caller's says so by a lower latest:
// the caller's copy is of another history.
func testRestoredStoreIsReported(t *testing.T, open Opener) {
	s, _ := open(t)
	mustMint(t, s, "https://a.org/x", []link.Channel{link.Email}, "c1")
	if changes, latest := changesSince(t, s, 1000); len(changes) != 0 || latest >= 1000 {
		t.Fatalf("ahead of the store: %+v, latest %d; want none and a latest below 1000", changes, latest)
	}
}

// A poller that follows latest sees every change, though writers on both
// instances commit in another order than they took their numbers.
func testPollerMissesNoChange(t *testing.T, open Opener) {
	s, other := open(t)
	var (
		done   atomic.Bool
		seen   = map[string]bool{}
		poller sync.WaitGroup
		seq    uint64
	)
	pollCtx := ctx(t)
	poller.Go(func() {
		for !done.Load() {
			changes, latest, err := other.ChangesSince(pollCtx, seq)
			if err != nil {
				t.Error(err)
				return
			}
			for _, c := range changes {
				seen[c.Ref] = true
			}
			seq = latest
		}
	})
	var minted sync.Map
	race(t, s, other, func(i int, h Store) error {
		for j := range 20 {
			url := fmt.Sprintf("https://a.org/%d/%d", i, j)
			links, err := h.Mint(ctx(t), url, []link.Channel{link.Email}, randomCreator(url))
			if err != nil {
				return err
			}
			minted.Store(links[0].Code, true)
		}
		return nil
	})
	done.Store(true)
	poller.Wait()
	changes, _ := changesSince(t, other, seq)
	for _, c := range changes {
		seen[c.Ref] = true
	}
	minted.Range(func(code, _ any) bool {
		if !seen[code.(string)] {
			t.Errorf("the poller never saw the mint of %s", code)
		}
		return true
	})
}
