package link_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/postgres"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
)

// instance is one darkshare process over a shared PostgreSQL database:
// its own pool, its own Service, with its link reads counted.
type instance struct {
	*link.Service
	db   *postgres.DB
	gets *countedGets
}

// twoInstances opens two instances on one fresh database; url is the
// database's, for the test's own statements.
func twoInstances(t *testing.T) (a, b instance, url string) {
	t.Helper()
	url = pgtest.URL(t)
	return openInstance(t, url, nil), openInstance(t, url, nil), url
}

// openInstance opens an instance on the database at url; its feed is feed,
// or else its store's.
func openInstance(t *testing.T, url string, feed link.ChangeFeed) instance {
	t.Helper()
	db := pgtest.OpenURL(t, url)
	if feed == nil {
		feed = db
	}
	gets := &countedGets{Store: db}
	s, err := link.NewService(gets, link.Policy{BaseURL: "http://127.0.0.1:8080", Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	return instance{Service: s, db: db, gets: gets}
}

func mint(t *testing.T, s *link.Service, url string) link.Link {
	t.Helper()
	_, links, err := s.Mint(context.Background(), link.MintRequest{URL: url, Channels: []string{"email"}, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	return links[0]
}

func mustLoad(t *testing.T, s *link.Service) {
	t.Helper()
	if _, err := s.LoadRoutes(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func mustPoll(t *testing.T, s *link.Service) {
	t.Helper()
	if err := s.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func route(t *testing.T, s *link.Service, code string) link.Route {
	t.Helper()
	r, err := s.Route(context.Background(), code)
	if err != nil {
		t.Fatalf("Route(%s): %v", code, err)
	}
	return r
}

func get(t *testing.T, s *link.Service, code string) link.Link {
	t.Helper()
	l, err := s.Get(context.Background(), code)
	if err != nil {
		t.Fatalf("Get(%s): %v", code, err)
	}
	return l
}

// A link minted on one instance redirects on another at once, though the
// other loaded every route before it existed.
func TestSharedStoreLinksMintedElsewhereRoute(t *testing.T) {
	t.Parallel()
	a, b, _ := twoInstances(t)
	mint(t, a.Service, "https://a.example/before")
	mustLoad(t, b.Service)
	l := mint(t, a.Service, "https://a.example/after")
	if r := route(t, b.Service, l.Code); r.URL != l.URL {
		t.Fatalf("B routes %s to %q, want %q", l.Code, r.URL, l.URL)
	}
	if got := get(t, b.Service, l.Code); got.StatsKey != l.StatsKey {
		t.Fatalf("B's Get = %+v, want %+v", got, l)
	}
}

// Disabling, a campaign and a new stats key on one instance reach another
// instance's route index, its lookups and its mint answers at its next
// poll.
func TestSharedStoreChangesReachOtherInstancesAtPoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, _ := twoInstances(t)
	disabled, campaign, rotated := mint(t, a.Service, "https://a.example/1"), mint(t, a.Service, "https://a.example/2"), mint(t, a.Service, "https://a.example/3")
	mustLoad(t, b.Service)
	for _, l := range []link.Link{disabled, campaign, rotated} { // B holds each one
		route(t, b.Service, l.Code)
		get(t, b.Service, l.Code)
		mint(t, b.Service, l.URL)
	}
	before := b.Changes()

	if _, err := a.SetDisabled(ctx, disabled.Code, true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetCampaign(ctx, campaign.Code, &link.Campaign{Preset: link.PresetUTM}); err != nil {
		t.Fatal(err)
	}
	l, err := a.RotateStatsKey(ctx, rotated.Code)
	if err != nil {
		t.Fatal(err)
	}
	newKey := l.StatsKey
	if route(t, b.Service, disabled.Code).Disabled {
		t.Fatal("B saw the change before polling: this test does not test the poll")
	}
	mustPoll(t, b.Service)

	if !route(t, b.Service, disabled.Code).Disabled || !get(t, b.Service, disabled.Code).Disabled {
		t.Error("disabled on A, B still redirects it")
	}
	if r := route(t, b.Service, campaign.Code); !strings.Contains(r.Dest, "utm_source=email") {
		t.Errorf("campaign set on A, B redirects to %s", r.Dest)
	}
	if c := get(t, b.Service, campaign.Code).Campaign; c == nil || c.Preset != link.PresetUTM {
		t.Errorf("campaign set on A, B's Get says %+v", c)
	}
	if got := get(t, b.Service, rotated.Code).StatsKey; got != newKey {
		t.Errorf("stats key rotated on A, B's Get has %s, want %s", got, newKey)
	}
	if got := mint(t, b.Service, rotated.URL).StatsKey; got != newKey {
		t.Errorf("stats key rotated on A, B's Mint answers %s, want %s", got, newKey)
	}
	if b.Changes() == before {
		t.Error("B's Changes did not move: its server would keep its mint answers")
	}
}

// A restored database (its change counter behind what an instance has
// seen) makes the instance drop what it holds and load the routes again.
func TestSharedStoreRestoreDropsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, url := twoInstances(t)
	kept, lost := mint(t, a.Service, "https://a.example/kept"), mint(t, a.Service, "https://a.example/lost")
	mustLoad(t, b.Service)
	for _, l := range []link.Link{kept, lost} {
		route(t, b.Service, l.Code)
		get(t, b.Service, l.Code)
		mint(t, b.Service, l.URL)
	}
	before := b.Changes()

	// The older copy: lost was not there yet, kept was disabled, and its
	// counter is where it then stood. No change is recorded.
	sql(t, url, `DELETE FROM links WHERE code = $1`, lost.Code)
	sql(t, url, `UPDATE links SET disabled = true WHERE code = $1`, kept.Code)
	sql(t, url, `UPDATE change_counter SET last = 0`)
	mustPoll(t, b.Service)

	if !route(t, b.Service, kept.Code).Disabled || !get(t, b.Service, kept.Code).Disabled {
		t.Error("after the restore, B still has kept enabled")
	}
	if _, err := b.Route(ctx, lost.Code); !errors.Is(err, link.ErrNotFound) {
		t.Errorf("after the restore, B routes a link the db lacks: %v", err)
	}
	if _, err := b.Get(ctx, lost.Code); !errors.Is(err, link.ErrNotFound) {
		t.Errorf("after the restore, B's Get finds a link the db lacks: %v", err)
	}
	if again := mint(t, b.Service, lost.URL); again.Code == lost.Code {
		t.Error("after the restore, B's Mint answered the lost link from memory")
	}
	if b.Changes() == before {
		t.Error("B's Changes did not move: its server would keep its mint answers")
	}
	// The feed goes on from the restored counter.
	if _, err := a.SetDisabled(ctx, kept.Code, false); err != nil {
		t.Fatal(err)
	}
	mustPoll(t, b.Service)
	if route(t, b.Service, kept.Code).Disabled {
		t.Error("a change after the restore did not reach B")
	}
}

// sql runs one statement on the database at url, behind the stores' backs.
func sql(t *testing.T, url, statement string, args ...any) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url) // a pool: the URL sets pool_max_conns
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, statement, args...); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// Codes nobody minted reach the store at most MaxMissLookups times a
// second, and a code found missing is not looked up again for a while; a
// link minted meanwhile on another instance routes after the next poll.
func TestSharedStoreMissesAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, _ := twoInstances(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b.SetClock(func() time.Time { return now })
	mint(t, a.Service, "https://a.example/")
	mustLoad(t, b.Service)

	const missing = "Missing_0"
	if _, err := b.Route(ctx, missing); !errors.Is(err, link.ErrNotFound) {
		t.Fatalf("Route(%s) = %v, want ErrNotFound", missing, err)
	}
	if n := b.gets.gets.Load(); n != 1 {
		t.Fatalf("%d store reads for a code nobody holds, want 1", n)
	}
	// Another instance mints that very code (through the store, which
	// takes the code it is given).
	if _, err := a.db.Mint(ctx, "https://a.example/late", []link.Channel{link.Email}, func(link.Channel) (link.Link, error) {
		return link.Link{Code: missing, CreatedAt: now, StatsKey: "k"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := b.Route(ctx, missing); !errors.Is(err, link.ErrNotFound) {
			t.Fatalf("Route(%s) = %v within a poll of its miss, want ErrNotFound from memory", missing, err)
		}
		if _, err := b.Get(ctx, missing); !errors.Is(err, link.ErrNotFound) {
			t.Fatalf("Get(%s) = %v within a poll of its miss, want ErrNotFound from memory", missing, err)
		}
	}
	if n := b.gets.gets.Load(); n != 1 {
		t.Fatalf("%d store reads for a code recently missing, want 1", n)
	}

	for i := range 10 * link.MaxMissLookups {
		code := fmt.Sprintf("rnd%x", rand.Uint64())
		_, err := b.Route(ctx, code)
		if i%2 == 1 {
			_, err = b.Get(ctx, code)
		}
		if !errors.Is(err, link.ErrNotFound) {
			t.Fatalf("%s: %v, want ErrNotFound", code, err)
		}
	}
	if n := b.gets.gets.Load(); n != link.MaxMissLookups {
		t.Fatalf("%d store reads in a second for codes nobody holds, want MaxMissLookups (%d)", n, link.MaxMissLookups)
	}

	b.gets.gets.Store(0)
	mustPoll(t, b.Service)
	if r := route(t, b.Service, missing); r.URL != "https://a.example/late" {
		t.Fatalf("after the poll, B routes %s to %q", missing, r.URL)
	}

	// A second on, the bucket is full again, and the memory of misses has
	// expired.
	now = now.Add(time.Second)
	b.gets.gets.Store(0)
	for range 2 * link.MaxMissLookups {
		if _, err := b.Route(ctx, fmt.Sprintf("rnd%x", rand.Uint64())); !errors.Is(err, link.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := b.gets.gets.Load(); n != link.MaxMissLookups {
		t.Fatalf("%d store reads in the next second, want MaxMissLookups (%d)", n, link.MaxMissLookups)
	}
}

// failingFeed is the real feed, failing while fail is set.
type failingFeed struct {
	link.ChangeFeed
	fail atomic.Bool
}

func (f *failingFeed) ChangesSince(ctx context.Context, seq uint64) ([]link.Change, uint64, error) {
	if f.fail.Load() {
		return nil, 0, errors.New("connection refused")
	}
	return f.ChangeFeed.ChangesSince(ctx, seq)
}

// A feed that fails leaves redirects as they were; the changes made
// meanwhile arrive at the first poll that succeeds.
func TestSharedStorePollErrorsAreRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a := openInstance(t, url, nil)
	bdb := pgtest.OpenURL(t, url)
	feed := &failingFeed{ChangeFeed: bdb}
	b := openInstance(t, url, feed)
	l := mint(t, a.Service, "https://a.example/")
	mustLoad(t, b.Service)

	feed.fail.Store(true)
	if _, err := a.SetDisabled(ctx, l.Code, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Poll(ctx); err == nil {
		t.Fatal("Poll on a failing feed returned no error")
	}
	if r := route(t, b.Service, l.Code); r.URL != l.URL {
		t.Fatalf("while the feed fails, B routes %s to %q", l.Code, r.URL)
	}
	feed.fail.Store(false)
	mustPoll(t, b.Service)
	if !route(t, b.Service, l.Code).Disabled {
		t.Fatal("a change made while the feed failed never arrived")
	}
}

// More changes than one read of the feed returns (an import) all arrive
// in one poll, and the links then route from memory.
func TestSharedStoreImportArrivesInOnePoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, _ := twoInstances(t)
	mustLoad(t, b.Service)
	reqs := make([]link.MintRequest, link.MaxChanges+1)
	for i := range reqs {
		reqs[i] = link.MintRequest{URL: fmt.Sprintf("https://a.example/%d", i), Channels: []string{"sms"}}
	}
	if res, err := a.Import(ctx, reqs); err != nil || res.Minted != len(reqs) || len(res.Rejected) != 0 {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	mustPoll(t, b.Service)
	b.gets.gets.Store(0)
	n := 0
	err := a.db.Each(ctx, func(l link.Link) error {
		n++
		if r := route(t, b.Service, l.Code); r.URL != l.URL {
			t.Fatalf("B routes %s to %q, want %q", l.Code, r.URL, l.URL)
		}
		return nil
	})
	if err != nil || n != len(reqs) {
		t.Fatalf("Each saw %d links (%v), want %d", n, err, len(reqs))
	}
	if n := b.gets.gets.Load(); n != 0 {
		t.Fatalf("%d store reads for links the poll brought, want none", n)
	}
}

// Follow polls at once and then every interval until its context ends,
// logging a failed poll and trying again at the next tick.
func TestFollowPollsUntilStopped(t *testing.T) {
	t.Parallel()
	ctx, stop := context.WithCancel(context.Background())
	url := pgtest.URL(t)
	a := openInstance(t, url, nil)
	feed := &failingFeed{ChangeFeed: pgtest.OpenURL(t, url)}
	b := openInstance(t, url, feed)
	first, second := mint(t, a.Service, "https://a.example/1"), mint(t, a.Service, "https://a.example/2")
	mustLoad(t, b.Service)
	if _, err := a.SetDisabled(ctx, first.Code, true); err != nil {
		t.Fatal(err)
	}
	var logged syncBuffer
	var wg sync.WaitGroup
	wg.Go(func() { b.Follow(ctx, time.Hour, slog.New(slog.NewTextHandler(&logged, nil))) })
	waitFor(t, "Follow to poll at once", func() bool { return route(t, b.Service, first.Code).Disabled })
	stop()
	wg.Wait()

	ctx, stop = context.WithCancel(context.Background())
	defer stop()
	feed.fail.Store(true)
	if _, err := a.SetDisabled(ctx, second.Code, true); err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { b.Follow(ctx, time.Millisecond, slog.New(slog.NewTextHandler(&logged, nil))) })
	waitFor(t, "a failed poll to be logged", func() bool { return strings.Contains(logged.String(), "connection refused") })
	feed.fail.Store(false)
	waitFor(t, "Follow to poll again after a failure", func() bool { return route(t, b.Service, second.Code).Disabled })
	stop()
	wg.Wait()
}

// waitFor waits until cond holds, failing the test if it never does.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a hang, not a measure
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a log that goroutines may write while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
