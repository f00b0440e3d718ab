package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/store/storetest"
)

func TestCheckTokenStrength(t *testing.T) {
	for _, tt := range []struct {
		token string
		ok    bool
	}{
		{"7391", false},
		{"", false},
		{"admin-secret", false},
		{"correct-horse", false},
		{"_nPXAFx7mVh9k0fPC1po6", false},                          // 21 random base64url characters: 125 bits
		{"71862d0b7a7d53e3ba2f783ef107d9", false},                 // 120 bits of hex
		{"71862d0b7a7d53e3ba2f783ef107d965", true},                // openssl rand -hex 16: 128 bits
		{"71862D0B7A7D53E3BA2F783EF107D965", true},                // the same, upper case
		{"34805359327665533587288491603650202908", false},         // 38 digits: 126 bits
		{"348053593276655335872884916036502029088", true},         // 39 digits
		{"fguuyJoFw9boBLwy92Vs3n8Tup29nk3oE15Cm8fcz4w", true},     // 43 random base64url characters
		{"GNSj/UBvspdtWSI5nHBOHYiiDtYGGNV8qqfgVgjQ/m4=", true},    // openssl rand -base64 32
		{"dsa_1J0IV-mYiN7yC7fMz01QjzgHHT6PLdXB_R84LPyL7zo", true}, // a generated token
		{strings.Repeat("a", 64), false},
		{strings.Repeat("ab", 32), false},
		{strings.Repeat("Password1", 6), false},
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", false},
		{"0123456789012345678901234567890123456789012345", false},
		{"fguuyJoFw9boBLwy92Vs3n8Tup29nk3oE15Cm8fcz4w" + strings.Repeat("x", 40), false}, // padded with one letter
		{"fguuyJoFw9boBLwyfguuyJoFw9boBLwyfguuyJoFw9boBLwy", false},                      // one piece, thrice
	} {
		err := auth.CheckTokenStrength(tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("CheckTokenStrength(%q) = %v, want ok %v", tt.token, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, auth.ErrWeakToken) || !strings.Contains(err.Error(), "openssl rand -base64 32")) {
			t.Errorf("CheckTokenStrength(%q) = %v: want ErrWeakToken saying how to make a token", tt.token, err)
		}
	}
}

func TestBootstrapRefusesAWeakEnvToken(t *testing.T) {
	db := storetest.MustOpen(t)
	s := auth.NewService(db, db)
	_, err := s.Bootstrap(ctx, "7391")
	if !errors.Is(err, auth.ErrWeakToken) || !strings.Contains(err.Error(), "head -c 32 /dev/urandom | base64") {
		t.Fatalf("Bootstrap with 7391: %v", err)
	}
	if s.IsAdminToken("7391") {
		t.Fatal("a refused token is the admin token")
	}
	if _, err := s.Bootstrap(ctx, chosenA); err != nil || !s.IsAdminToken(chosenA) {
		t.Fatalf("Bootstrap with a strong token: %v", err)
	}
}

func FuzzCheckTokenStrength(f *testing.F) {
	for _, seed := range []string{"7391", "fguuyJoFw9boBLwy92Vs3n8Tup29nk3oE15Cm8fcz4w", "71862d0b7a7d53e3ba2f783ef107d965", "aaaa", "\xff\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if auth.CheckTokenStrength(token) == nil && (len(token) < 22 || auth.TokenBits(token) < auth.MinTokenBits) {
			t.Fatalf("%q accepted with %.0f bits", token, auth.TokenBits(token))
		}
		// A token said twice is no stronger than once.
		if len(token) > 6 && auth.CheckTokenStrength(token+token) == nil {
			t.Fatalf("%q twice accepted", token)
		}
	})
}
