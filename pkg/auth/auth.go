// Package auth decides who is the admin: by bearer token or by a login
// session. Only hashes of tokens and session IDs are ever stored.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

var (
	// ErrUnauthorized means the credentials presented are missing or wrong.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNoAdminToken is returned by a Store that holds no admin token hash yet.
	ErrNoAdminToken = errors.New("no admin token set")
	// ErrNoSession is returned by a Store for an unknown session.
	ErrNoSession = errors.New("no such session")
)

// SessionTTL is how long a login lasts.
const SessionTTL = 7 * 24 * time.Hour

// Store keeps the admin token hash and login sessions.
type Store interface {
	// AdminTokenHash returns the stored hash, or an error wrapping ErrNoAdminToken.
	AdminTokenHash(ctx context.Context) ([]byte, error)
	SetAdminTokenHash(ctx context.Context, hash []byte) error
	// PutSession stores a session hash until expires, and drops expired ones.
	PutSession(ctx context.Context, hash []byte, expires time.Time) error
	// SessionExpiry returns when a session ends, or an error wrapping ErrNoSession.
	SessionExpiry(ctx context.Context, hash []byte) (time.Time, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions ends every session.
	DeleteSessions(ctx context.Context) error
}

// Service checks admin credentials and API keys.
type Service struct {
	store Store
	keys  KeyStore
	now   func() time.Time

	mu        sync.RWMutex
	tokenHash []byte
}

// NewService returns a Service backed by store and keys (usually the same
// db). Call Bootstrap before use.
func NewService(store Store, keys KeyStore) *Service {
	return &Service{store: store, keys: keys, now: time.Now}
}

// Bootstrap decides the admin token. A non-empty envToken (from
// DARKSHARE_ADMIN_TOKEN) is used as given and never stored. Otherwise the hash
// kept in the store is used, and when there is none a token is generated, its
// hash stored, and the token returned so the caller can show it once. It
// returns "" when there is nothing to show.
func (s *Service) Bootstrap(ctx context.Context, envToken string) (string, error) {
	if envToken != "" {
		s.setHash(hash(envToken))
		return "", nil
	}
	h, err := s.store.AdminTokenHash(ctx)
	switch {
	case err == nil:
		s.setHash(h)
		return "", nil
	case errors.Is(err, ErrNoAdminToken):
		return s.ResetAdminToken(ctx)
	default:
		return "", fmt.Errorf("load admin token: %w", err)
	}
}

// ResetAdminToken generates a new admin token, stores its hash and returns it.
// The old token stops working at once, and every login session ends.
func (s *Service) ResetAdminToken(ctx context.Context) (string, error) {
	token, err := randomToken("dsa_")
	if err != nil {
		return "", err
	}
	h := hash(token)
	if err := s.store.SetAdminTokenHash(ctx, h); err != nil {
		return "", fmt.Errorf("store admin token: %w", err)
	}
	if err := s.store.DeleteSessions(ctx); err != nil {
		return "", fmt.Errorf("end sessions: %w", err)
	}
	s.setHash(h)
	return token, nil
}

func (s *Service) setHash(h []byte) {
	s.mu.Lock()
	s.tokenHash = h
	s.mu.Unlock()
}

// IsAdminToken reports whether token is the admin token, in constant time.
func (s *Service) IsAdminToken(token string) bool {
	if token == "" {
		return false
	}
	s.mu.RLock()
	want := s.tokenHash
	s.mu.RUnlock()
	return want != nil && subtle.ConstantTimeCompare(hash(token), want) == 1
}

// Login exchanges the admin token for a session ID valid for SessionTTL. It
// returns an error wrapping ErrUnauthorized for a wrong token.
func (s *Service) Login(ctx context.Context, token string) (string, time.Time, error) {
	if !s.IsAdminToken(token) {
		return "", time.Time{}, fmt.Errorf("%w: wrong admin token", ErrUnauthorized)
	}
	id, err := randomToken("")
	if err != nil {
		return "", time.Time{}, err
	}
	expires := s.now().Add(SessionTTL)
	if err := s.store.PutSession(ctx, hash(id), expires); err != nil {
		return "", time.Time{}, fmt.Errorf("store session: %w", err)
	}
	return id, expires, nil
}

// IsSession reports whether id is a live session.
func (s *Service) IsSession(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	expires, err := s.store.SessionExpiry(ctx, hash(id))
	switch {
	case errors.Is(err, ErrNoSession):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up session: %w", err)
	}
	return s.now().Before(expires), nil
}

// Logout ends a session. Ending an unknown session is not an error.
func (s *Service) Logout(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if err := s.store.DeleteSession(ctx, hash(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// hash is SHA-256: tokens and session IDs are 256 random bits, so a slow
// password hash would add nothing.
func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func randomToken(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
