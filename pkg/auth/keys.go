package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Scope is a permission an API key carries.
type Scope string

// The scopes. The admin token, and a login session, have them all.
const (
	ScopeLinksWrite Scope = "links:write" // mint links for any host
	ScopeStatsRead  Scope = "stats:read"  // read every link's and page's stats
	ScopeAdmin      Scope = "admin"       // keys, stats keys, disabling links, backups
)

// AllScopes lists every scope.
var AllScopes = []Scope{ScopeLinksWrite, ScopeStatsRead, ScopeAdmin}

var (
	// ErrNoKey is returned for an API key ID that does not exist.
	ErrNoKey = errors.New("no such api key")
	// ErrInvalidKey marks a key request that cannot be honoured (bad name or scope).
	ErrInvalidKey = errors.New("invalid api key request")
)

// Key is an API key as stored: its secret is never kept, only its hash.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scopes    []Scope   `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	Hash      []byte    `json:"-"`
}

// Has reports whether the key carries scope.
func (k Key) Has(s Scope) bool { return slices.Contains(k.Scopes, s) }

// KeyStore keeps API keys.
type KeyStore interface {
	PutKey(ctx context.Context, k Key) error
	// GetKey returns the key with id, or an error wrapping ErrNoKey.
	GetKey(ctx context.Context, id string) (Key, error)
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]Key, error)
	// DeleteKey removes a key, or returns an error wrapping ErrNoKey.
	DeleteKey(ctx context.Context, id string) error
}

const (
	keyPrefix     = "dsk_"
	maxKeyNameLen = 100
)

// ParseScopes parses scope names; it returns an error wrapping ErrInvalidKey
// for an unknown one or for none at all.
func ParseScopes(names []string) ([]Scope, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: scopes: give at least one of %s", ErrInvalidKey, scopeList())
	}
	var out []Scope
	for _, n := range names {
		s := Scope(strings.TrimSpace(n))
		if !slices.Contains(AllScopes, s) {
			return nil, fmt.Errorf("%w: scopes: %q is not one of %s", ErrInvalidKey, n, scopeList())
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func scopeList() string {
	names := make([]string, len(AllScopes))
	for i, s := range AllScopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// CreateKey makes a key with name and scopes and returns it with its secret
// token, which is shown this once: only its hash is stored.
func (s *Service) CreateKey(ctx context.Context, name string, scopes []Scope) (Key, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxKeyNameLen {
		return Key{}, "", fmt.Errorf("%w: name: give one of 1 to %d characters", ErrInvalidKey, maxKeyNameLen)
	}
	// PostgreSQL's text refuses NUL and invalid UTF-8, and a control
	// character would garble the keys list in a terminal: refuse them on
	// every store alike, before any is written.
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return Key{}, "", fmt.Errorf("%w: name: use printable UTF-8 text", ErrInvalidKey)
	}
	if len(scopes) == 0 {
		return Key{}, "", fmt.Errorf("%w: scopes: give at least one of %s", ErrInvalidKey, scopeList())
	}
	var id [9]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, "", fmt.Errorf("generate key id: %w", err)
	}
	// Hex, not base64: an ID starting with "-" would read as a flag on the
	// command line (darkshare keys revoke ID).
	k := Key{ID: hex.EncodeToString(id[:]), Name: name, Scopes: scopes, CreatedAt: s.now().UTC().Truncate(time.Second)}
	secret, err := randomToken("")
	if err != nil {
		return Key{}, "", err
	}
	// The ID travels in the token, so a check is one lookup by ID and one
	// constant-time comparison, not a scan.
	token := keyPrefix + k.ID + "." + secret
	k.Hash = hash(token)
	if err := s.keys.PutKey(ctx, k); err != nil {
		return Key{}, "", fmt.Errorf("store key: %w", err)
	}
	return k, token, nil
}

// ListKeys returns every API key, without secrets.
func (s *Service) ListKeys(ctx context.Context) ([]Key, error) { return s.keys.ListKeys(ctx) }

// RevokeKey deletes a key; it stops working at once. It returns an error
// wrapping ErrNoKey for an unknown id.
func (s *Service) RevokeKey(ctx context.Context, id string) error { return s.keys.DeleteKey(ctx, id) }

// Principal is who a request speaks for, and what it may do.
type Principal struct {
	Name   string // "admin", or the API key's name
	Scopes []Scope
}

// Can reports whether p carries scope.
func (p Principal) Can(s Scope) bool { return slices.Contains(p.Scopes, s) }

// Anonymous is the principal of a request with no credentials.
var Anonymous = Principal{Name: "anonymous"}

// Bearer returns the principal of a bearer token: the admin token or an API
// key. It returns an error wrapping ErrUnauthorized for any other token.
func (s *Service) Bearer(ctx context.Context, token string) (Principal, error) {
	if s.IsAdminToken(token) {
		return Principal{Name: "admin", Scopes: AllScopes}, nil
	}
	unauthorized := fmt.Errorf("%w: the bearer token is neither the admin token nor a live API key", ErrUnauthorized)
	rest, ok := strings.CutPrefix(token, keyPrefix)
	id, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || id == "" {
		return Anonymous, unauthorized
	}
	k, err := s.keys.GetKey(ctx, id)
	if errors.Is(err, ErrNoKey) {
		return Anonymous, unauthorized
	}
	if err != nil {
		return Anonymous, fmt.Errorf("look up api key: %w", err)
	}
	if subtle.ConstantTimeCompare(hash(token), k.Hash) != 1 {
		return Anonymous, unauthorized
	}
	return Principal{Name: k.Name, Scopes: k.Scopes}, nil
}
