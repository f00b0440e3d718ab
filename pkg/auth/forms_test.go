package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/store/storetest"
)

// newEnvService returns a Service whose admin token is token, on a fresh db.
func newEnvService(t testing.TB, token string) *auth.Service {
	t.Helper()
	db := storetest.MustOpen(t)
	s := auth.NewService(db, db)
	if _, err := s.Bootstrap(ctx, token); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFormTokens(t *testing.T) {
	s := newEnvService(t, chosenA)
	now := time.Now()
	auth.SetClock(s, func() time.Time { return now })
	const session, other = "session-id-of-the-admin", "session-id-planted-by-someone-else"
	anon, bound := s.FormToken(""), s.FormToken(session)

	// Another instance with the same admin token (another process, another
	// db) takes the same tokens: nothing is kept per form.
	twin := newEnvService(t, chosenA)
	rotated := newEnvService(t, chosenB)
	for _, tt := range []struct {
		name           string
		s              *auth.Service
		session, token string
		ok             bool
	}{
		{"anonymous form", s, "", anon, true},
		{"anonymous form on a twin", twin, "", anon, true},
		{"session's form", s, session, bound, true},
		{"session's form on a twin", twin, session, bound, true},
		{"session's form, another session", s, other, bound, false},
		{"session's form, no session", s, "", bound, false},
		{"anonymous form with a session", s, session, anon, false},
		{"another session's form", s, session, s.FormToken(other), false},
		{"after the admin token changed", rotated, session, bound, false},
		{"anonymous, after the admin token changed", rotated, "", anon, false},
		{"empty", s, session, "", false},
		{"forged", s, "", "a.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
		{"bit flipped", s, session, bound[:len(bound)-2] + string(bound[len(bound)-2]^1) + bound[len(bound)-1:], false},
	} {
		if got := tt.s.CheckFormToken(tt.session, tt.token); got != tt.ok {
			t.Errorf("%s: CheckFormToken = %v, want %v", tt.name, got, tt.ok)
		}
	}

	now = now.Add(auth.FormTokenTTL + time.Second)
	if s.CheckFormToken("", anon) {
		t.Error("an anonymous form token outlived FormTokenTTL")
	}
	if !s.CheckFormToken(session, bound) {
		t.Error("a session's form token expired before the session")
	}
}

func FuzzCheckFormToken(f *testing.F) {
	s := newEnvService(f, chosenA)
	anon := s.FormToken("")
	f.Add("", anon)
	f.Add("sess", s.FormToken("sess"))
	f.Add("sess", "s."+strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, session, token string) {
		if !s.CheckFormToken(session, token) {
			return
		}
		if session != "" && token != s.FormToken(session) || session == "" && token != anon {
			t.Fatalf("CheckFormToken(%q, %q) accepted a token FormToken did not make", session, token)
		}
	})
}
