package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/store/storetest"
)

var ctx = context.Background()

// Admin tokens as an operator makes them: openssl rand -base64 32.
const (
	chosenA = "GNSj/UBvspdtWSI5nHBOHYiiDtYGGNV8qqfgVgjQ/m4="
	chosenB = "fguuyJoFw9boBLwy92Vs3n8Tup29nk3oE15Cm8fcz4w"
)

func TestBootstrapGeneratesOnceThenKeeps(t *testing.T) {
	db := storetest.MustOpen(t)
	first := auth.NewService(db, db)
	token, err := first.Bootstrap(ctx, "")
	if err != nil || len(token) < 40 {
		t.Fatalf("first start: %q, %v", token, err)
	}
	second := auth.NewService(db, db)
	if again, err := second.Bootstrap(ctx, ""); err != nil || again != "" {
		t.Fatalf("second start showed %q, %v; the token is shown once", again, err)
	}
	if !second.IsAdminToken(token) || second.IsAdminToken(token+"x") || second.IsAdminToken("") {
		t.Fatal("the stored hash does not identify the token")
	}
	fresh, err := second.ResetAdminToken(ctx)
	if err != nil || fresh == token || second.IsAdminToken(token) || !second.IsAdminToken(fresh) {
		t.Fatalf("reset: %q, %v", fresh, err)
	}
	env := auth.NewService(db, db)
	if shown, err := env.Bootstrap(ctx, chosenA); err != nil || shown != "" || !env.IsAdminToken(chosenA) || env.IsAdminToken(fresh) {
		t.Fatalf("env token: %q, %v", shown, err)
	}
}

func TestSessions(t *testing.T) {
	db := storetest.MustOpen(t)
	s := auth.NewService(db, db)
	token, err := s.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Login(ctx, "wrong"); err == nil {
		t.Fatal("login with a wrong token")
	}
	id, expires, err := s.Login(ctx, token)
	if err != nil || id == "" || expires.IsZero() {
		t.Fatalf("login: %q %v %v", id, expires, err)
	}
	for candidate, want := range map[string]bool{id: true, id + "x": false, "": false} {
		if got, err := s.IsSession(ctx, candidate); err != nil || got != want {
			t.Errorf("IsSession(%.6q…) = %v, %v; want %v", candidate, got, err, want)
		}
	}
	if err := s.Logout(ctx, id); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.IsSession(ctx, id); ok {
		t.Fatal("session alive after logout")
	}
}

func TestResetEndsSessions(t *testing.T) {
	db := storetest.MustOpen(t)
	s := auth.NewService(db, db)
	token, err := s.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := s.Login(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetAdminToken(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.IsSession(ctx, id); ok {
		t.Fatal("a session outlived the token it was opened with")
	}
}

// Key IDs go on command lines (darkshare keys revoke ID): none may look
// like a flag.
func TestKeyIDsNeverLookLikeFlags(t *testing.T) {
	db := storetest.MustOpen(t)
	s := auth.NewService(db, db)
	for range 200 {
		k, token, err := s.CreateKey(ctx, "k", []auth.Scope{auth.ScopeStatsRead})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k.ID, "-") || !strings.HasPrefix(token, "dsk_"+k.ID+".") {
			t.Fatalf("id %q, token %q", k.ID, token)
		}
	}
}

// A session lives only as long as the admin token that opened it: a new
// token, by whatever route, ends it, over one and the same db file.
func TestSessionsEndWhenTheAdminTokenChanges(t *testing.T) {
	db := storetest.MustOpen(t)
	start := func(envToken string) *auth.Service {
		t.Helper()
		s := auth.NewService(db, db)
		if _, err := s.Bootstrap(ctx, envToken); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := start(chosenA)
	id, _, err := a.Login(ctx, chosenA)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := start(chosenA).IsSession(ctx, id); !ok || err != nil {
		t.Fatalf("a restart with the same token ended the session: %v", err)
	}
	if ok, err := start(chosenB).IsSession(ctx, id); ok || err != nil {
		t.Fatalf("after a restart with another token, the session is live (%v)", err)
	}
	// Unset: the generated token, which is yet another.
	generated := start("")
	if ok, _ := generated.IsSession(ctx, id); ok {
		t.Fatal("after a restart with the generated token, the session is live")
	}
	id, _, err = generated.Login(ctx, mustReset(t, generated))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generated.ResetAdminToken(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := start("").IsSession(ctx, id); ok {
		t.Fatal("after reset-admin-token, the session is live")
	}
}

func mustReset(t *testing.T, s *auth.Service) string {
	t.Helper()
	token, err := s.ResetAdminToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// A key's name is checked before anything is written, the same on every
// store: PostgreSQL's text cannot hold NUL or invalid UTF-8.
func TestCreateKeyRefusesBadNames(t *testing.T) {
	db := storetest.MustOpen(t)
	s := auth.NewService(db, db)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ci deploy", true},
		{"  padded  ", true},
		{"Zürich 東京", true},
		{strings.Repeat("k", 100), true},
		{"", false},
		{"   ", false},
		{strings.Repeat("k", 101), false},
		{"nul\x00byte", false},
		{"bell\a", false},
		{"line\nbreak", false},
		{"bad\xffutf8", false},
	} {
		_, _, err := s.CreateKey(ctx, tc.name, []auth.Scope{auth.ScopeStatsRead})
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, auth.ErrInvalidKey)) {
			t.Errorf("CreateKey(%q): %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	keys, err := s.ListKeys(ctx)
	if err != nil || len(keys) != 4 {
		t.Fatalf("stored %d keys (%v), want the 4 good ones", len(keys), err)
	}
}
