package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
)

// AuthStore checks the contract of auth.Store, and that auth.Services on
// two handles agree through it as instances must: on the admin token, its
// sessions and its form tokens.
func AuthStore(t *testing.T, open Opener) {
	runAll(t, open, map[string]func(*testing.T, Opener){
		"Sessions":                         testSessions,
		"SessionsPurgedAtEachPut":          testSessionsPurged,
		"AdminTokenFirstHashWins":          testAdminTokenFirstHashWins,
		"ConcurrentFirstHashesAgree":       testConcurrentFirstHashesAgree,
		"ConcurrentBootstrapsShowOneToken": testConcurrentBootstrapsShowOneToken,
		"ResetReachesOtherInstances":       testResetReachesOtherInstances,
		"EnvTokenWinsAndDisagreementWarns": testEnvTokenWinsAndDisagreementWarns,
	})
}

// Admin tokens as an operator makes them: openssl rand -base64 32.
const (
	envTokenA = "GNSj/UBvspdtWSI5nHBOHYiiDtYGGNV8qqfgVgjQ/m4="
	envTokenB = "fguuyJoFw9boBLwy92Vs3n8Tup29nk3oE15Cm8fcz4w"
)

func sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// expiry is a session's expiry d from now, to the second: every store
// keeps at least that.
func expiry(d time.Duration) time.Time { return time.Now().Add(d).Truncate(time.Second) }

func putSession(t *testing.T, s Store, id string, sess auth.Session) {
	t.Helper()
	if err := s.PutSession(ctx(t), sum(id), sess); err != nil {
		t.Fatal(err)
	}
}

// wantSession fails unless s holds the session id as want.
func wantSession(t *testing.T, s Store, id string, want auth.Session) {
	t.Helper()
	got, err := s.Session(ctx(t), sum(id))
	if err != nil || !got.Expires.Equal(want.Expires) || !bytes.Equal(got.Token, want.Token) {
		t.Fatalf("session %s: %v %x, %v; want %v %x", id, got.Expires, got.Token, err, want.Expires, want.Token)
	}
}

func wantNoSession(t *testing.T, s Store, id, why string) {
	t.Helper()
	if _, err := s.Session(ctx(t), sum(id)); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("session %s %s: %v; want ErrNoSession", id, why, err)
	}
}

var (
	tagA = bytes.Repeat([]byte{0xa}, 16)
	tagB = bytes.Repeat([]byte{0xb}, 16)
)

func testSessions(t *testing.T, open Opener) {
	s, other := open(t)
	wantNoSession(t, other, "unknown", "never put")
	first := auth.Session{Expires: expiry(time.Hour), Token: tagA}
	putSession(t, s, "first", first)
	wantSession(t, other, "first", first)
	longer := auth.Session{Expires: expiry(2 * time.Hour), Token: tagA}
	putSession(t, other, "first", longer)
	wantSession(t, s, "first", longer)
	putSession(t, s, "second", first)
	if err := other.DeleteSession(ctx(t), sum("first")); err != nil {
		t.Fatal(err)
	}
	wantNoSession(t, s, "first", "after DeleteSession")
	wantSession(t, s, "second", first)
	if err := s.DeleteSession(ctx(t), sum("first")); err != nil {
		t.Fatalf("deleting an unknown session: %v", err)
	}
	putSession(t, s, "third", first)
	if err := other.DeleteSessions(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantNoSession(t, s, "second", "after DeleteSessions")
	wantNoSession(t, s, "third", "after DeleteSessions")
}

// Each put drops the expired sessions and those of another admin token's
// fingerprint, but for the one it puts; until then Session gives them
// back, expired or not, for the Service to judge.
func testSessionsPurged(t *testing.T, open Opener) {
	s, other := open(t)
	stale := auth.Session{Expires: expiry(-time.Minute), Token: tagA}
	putSession(t, s, "stale", stale)
	wantSession(t, other, "stale", stale)
	live := auth.Session{Expires: expiry(time.Hour), Token: tagA}
	putSession(t, other, "live", live)
	wantNoSession(t, s, "stale", "expired, after the next put")
	wantSession(t, s, "live", live)
	ofB := auth.Session{Expires: expiry(time.Hour), Token: tagB}
	putSession(t, s, "of B", ofB)
	wantNoSession(t, other, "live", "of another token, after the next put")
	wantSession(t, other, "of B", ofB)
	putSession(t, other, "of B", stale)
	wantSession(t, s, "of B", stale)
}

func adminToken(t *testing.T, s Store) auth.StoredAdminToken {
	t.Helper()
	st, err := s.AdminToken(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func ifAbsent(t *testing.T, s Store, hash []byte) []byte {
	t.Helper()
	stored, err := s.SetAdminTokenHashIfAbsent(ctx(t), hash)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func testAdminTokenFirstHashWins(t *testing.T, open Opener) {
	s, other := open(t)
	if st := adminToken(t, s); st.Hash != nil || st.EnvTag != nil {
		t.Fatalf("a new store holds %+v", st)
	}
	// An instance with DARKSHARE_ADMIN_TOKEN may start first.
	if err := s.SetEnvTokenTag(ctx(t), tagA); err != nil {
		t.Fatal(err)
	}
	if st := adminToken(t, other); st.Hash != nil || !bytes.Equal(st.EnvTag, tagA) {
		t.Fatalf("after SetEnvTokenTag: %+v", st)
	}
	h1, h2, h3 := sum("one"), sum("two"), sum("three")
	if got := ifAbsent(t, other, h1); !bytes.Equal(got, h1) {
		t.Fatalf("first hash: %x stored", got)
	}
	if got := ifAbsent(t, s, h2); !bytes.Equal(got, h1) {
		t.Fatalf("second hash: %x; want the first, kept", got)
	}
	if err := s.SetAdminTokenHash(ctx(t), h2); err != nil {
		t.Fatal(err)
	}
	if got := ifAbsent(t, other, h3); !bytes.Equal(got, h2) {
		t.Fatalf("after SetAdminTokenHash: %x; want it replaced and kept", got)
	}
	if err := other.SetEnvTokenTag(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	if st := adminToken(t, s); !bytes.Equal(st.Hash, h2) || st.EnvTag != nil {
		t.Fatalf("after SetEnvTokenTag(nil): %+v; want the hash kept, no tag", st)
	}
}

func testConcurrentFirstHashesAgree(t *testing.T, open Opener) {
	s, other := open(t)
	got := make([][]byte, workers)
	race(t, s, other, func(i int, h Store) error {
		var err error
		got[i], err = h.SetAdminTokenHashIfAbsent(ctx(t), sum(string(rune('a'+i))))
		return err
	})
	stored := adminToken(t, s).Hash
	for i := range got {
		if !bytes.Equal(got[i], stored) {
			t.Fatalf("instance %d was told %x, the store holds %x", i, got[i], stored)
		}
	}
}

// Instances starting at once on a new database end with one admin token,
// shown by exactly one of them, which each of them accepts.
func testConcurrentBootstrapsShowOneToken(t *testing.T, open Opener) {
	s, other := open(t)
	services, shown := make([]*auth.Service, workers), make([]string, workers)
	race(t, s, other, func(i int, h Store) error {
		services[i] = auth.NewService(h, h, auth.WithLogger(discard))
		var err error
		shown[i], err = services[i].Bootstrap(ctx(t), "")
		return err
	})
	var token string
	for i, tok := range shown {
		if tok != "" && token != "" {
			t.Fatalf("two tokens shown: instance %d shows %.8s…, another %.8s…", i, tok, token)
		}
		if tok != "" {
			token = tok
		}
	}
	if token == "" {
		t.Fatal("no instance showed the admin token")
	}
	later := auth.NewService(other, other, auth.WithLogger(discard))
	if again, err := later.Bootstrap(ctx(t), ""); err != nil || again != "" {
		t.Fatalf("a later start shows %q, %v", again, err)
	}
	for i, svc := range append(services, later) {
		if !svc.IsAdminToken(token) {
			t.Fatalf("instance %d refuses the token shown", i)
		}
	}
}

// A reset on one instance reaches another at its next Refresh: the old
// token, a session opened with it, and form tokens signed with it are
// refused there, and the new token's are accepted.
func testResetReachesOtherInstances(t *testing.T, open Opener) {
	s, other := open(t)
	a, b := auth.NewService(s, s, auth.WithLogger(discard)), auth.NewService(other, other, auth.WithLogger(discard))
	old, err := a.Bootstrap(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Bootstrap(ctx(t), ""); err != nil {
		t.Fatal(err)
	}
	session := login(t, b, old)
	sessionForm, anonForm := b.FormToken(session), b.FormToken("")
	fresh, err := a.ResetAdminToken(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	// b has not refreshed yet, so it lets the old token log in after the
	// reset ended every session: the race a login can run with a reset.
	raced := login(t, b, old)
	if err := b.Refresh(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if b.IsAdminToken(old) || !b.IsAdminToken(fresh) {
		t.Fatal("after Refresh, the other instance does not take the new token for the old")
	}
	for _, id := range []string{session, raced} {
		if ok, err := b.IsSession(ctx(t), id); ok || err != nil {
			t.Fatalf("a session of the old token is live after Refresh (%v)", err)
		}
	}
	if b.CheckFormToken(session, sessionForm) || b.CheckFormToken("", anonForm) {
		t.Fatal("a form token signed with the old token passes after Refresh")
	}
	// And the new token works on both, whichever instance serves.
	id := login(t, a, fresh)
	if ok, err := b.IsSession(ctx(t), id); !ok || err != nil {
		t.Fatalf("a session of the new token is refused by the other instance (%v)", err)
	}
	if !b.CheckFormToken(id, a.FormToken(id)) || !a.CheckFormToken("", b.FormToken("")) {
		t.Fatal("instances on the new token refuse each other's form tokens")
	}
}

func login(t *testing.T, s *auth.Service, token string) string {
	t.Helper()
	id, _, err := s.Login(ctx(t), token)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// An instance with DARKSHARE_ADMIN_TOKEN keeps it whatever the store
// holds, and warns, once, when an instance started later runs with
// another token (another env token, or the generated one).
func testEnvTokenWinsAndDisagreementWarns(t *testing.T, open Opener) {
	s, other := open(t)
	logA, logB := &logBuffer{}, &logBuffer{}
	a := auth.NewService(s, s, auth.WithLogger(logA.logger()))
	if _, err := a.Bootstrap(ctx(t), envTokenA); err != nil {
		t.Fatal(err)
	}
	b := auth.NewService(other, other, auth.WithLogger(logB.logger()))
	if _, err := b.Bootstrap(ctx(t), envTokenB); err != nil {
		t.Fatal(err)
	}
	refresh(t, a, b)
	if logA.warnings() != 1 || logB.warnings() != 0 {
		t.Fatalf("after another env token started: %d warnings on the first instance, %d on the second; want 1, 0\n%s", logA.warnings(), logB.warnings(), logA)
	}
	session := login(t, a, envTokenA)
	if ok, _ := b.IsSession(ctx(t), session); ok {
		t.Fatal("a session of one env token is live on an instance with another")
	}
	// A generated token, even reset, changes nothing on either.
	if _, err := auth.NewService(s, s, auth.WithLogger(discard)).ResetAdminToken(ctx(t)); err != nil {
		t.Fatal(err)
	}
	refresh(t, a, b)
	if !a.IsAdminToken(envTokenA) || !b.IsAdminToken(envTokenB) || a.IsAdminToken(envTokenB) {
		t.Fatal("after a reset and Refresh, an instance left its DARKSHARE_ADMIN_TOKEN")
	}
	if logA.warnings() != 1 || logB.warnings() != 0 {
		t.Fatalf("a disagreement already told was told again: %d, %d warnings", logA.warnings(), logB.warnings())
	}
	// An instance started without one disagrees with both.
	logC := &logBuffer{}
	c := auth.NewService(s, s, auth.WithLogger(logC.logger()))
	if _, err := c.Bootstrap(ctx(t), ""); err != nil {
		t.Fatal(err)
	}
	refresh(t, a, b, c)
	if logA.warnings() != 2 || logB.warnings() != 1 || logC.warnings() != 0 {
		t.Fatalf("after a start with the generated token: %d, %d, %d warnings; want 2, 1, 0", logA.warnings(), logB.warnings(), logC.warnings())
	}
	if !strings.Contains(logB.String(), "generated admin token") {
		t.Fatalf("the warning does not say what the other instance runs with:\n%s", logB)
	}
	// Restarted with the same env token, a and b agree with each other: c,
	// on the generated token, is the one to warn.
	a = auth.NewService(s, s, auth.WithLogger(logA.logger()))
	b = auth.NewService(other, other, auth.WithLogger(logB.logger()))
	for _, svc := range []*auth.Service{a, b} {
		if _, err := svc.Bootstrap(ctx(t), envTokenA); err != nil {
			t.Fatal(err)
		}
	}
	refresh(t, a, b, c)
	if logA.warnings() != 2 || logB.warnings() != 1 || logC.warnings() != 1 {
		t.Fatalf("after restarts with one env token: %d, %d, %d warnings; want 2, 1, 1", logA.warnings(), logB.warnings(), logC.warnings())
	}
	session = login(t, a, envTokenA)
	if ok, err := b.IsSession(ctx(t), session); !ok || err != nil {
		t.Fatalf("with the same env token, a session of one instance is refused by the other (%v)", err)
	}
}

func refresh(t *testing.T, services ...*auth.Service) {
	t.Helper()
	for _, s := range services {
		if err := s.Refresh(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

var discard = slog.New(slog.DiscardHandler)

// logBuffer collects what a logger writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func (l *logBuffer) warnings() int { return strings.Count(l.String(), "level=WARN") }
