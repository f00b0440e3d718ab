// Package auth decides who is the admin: by bearer token or by a login
// session. Only hashes of tokens and session IDs are ever stored.
//
// Everything secret the server derives (the fingerprint that binds sessions
// to the admin token, the key that signs form tokens) comes from the admin
// token's hash: it changes when the token does, and every instance that
// knows the token derives the same values, with nothing more to share.
package auth

import (
	"context"
	"crypto/hmac"
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
	// ErrWeakToken means a chosen admin token is too easy to guess.
	ErrWeakToken = errors.New("admin token too weak")
)

// SessionTTL is how long a login lasts.
const SessionTTL = 7 * 24 * time.Hour

// Session is a login session as stored, under the hash of its ID.
type Session struct {
	Expires time.Time
	// Token is the fingerprint of the admin token that opened the session
	// (a key derived from its hash). The session is live
	// only while that token is the admin token.
	Token []byte
}

// Store keeps the admin token hash and login sessions.
type Store interface {
	// AdminTokenHash returns the stored hash, or an error wrapping ErrNoAdminToken.
	AdminTokenHash(ctx context.Context) ([]byte, error)
	SetAdminTokenHash(ctx context.Context, hash []byte) error
	// PutSession stores a session under the hash of its ID, and drops the
	// expired sessions and those opened with another admin token.
	PutSession(ctx context.Context, hash []byte, s Session) error
	// Session returns a stored session, or an error wrapping ErrNoSession.
	Session(ctx context.Context, hash []byte) (Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions ends every session.
	DeleteSessions(ctx context.Context) error
}

// Service checks admin credentials and API keys.
type Service struct {
	store Store
	keys  KeyStore
	now   func() time.Time

	mu      sync.RWMutex
	current adminToken
}

// adminToken is the admin token's hash and what is derived from it.
type adminToken struct {
	hash    []byte
	tag     []byte // binds sessions to the token
	formKey []byte // signs form tokens
}

func newAdminToken(hash []byte) adminToken {
	return adminToken{hash: hash, tag: derive(hash, "session tag")[:16], formKey: derive(hash, "form key")}
}

// derive returns a key for purpose from the admin token hash. HMAC keeps
// the keys for different purposes independent of each other and of the
// hash itself.
func derive(tokenHash []byte, purpose string) []byte {
	m := hmac.New(sha256.New, tokenHash)
	m.Write([]byte("darkshare " + purpose))
	return m.Sum(nil)
}

// NewService returns a Service backed by store and keys (usually the same
// db). Call Bootstrap before use.
func NewService(store Store, keys KeyStore) *Service {
	return &Service{store: store, keys: keys, now: time.Now}
}

// Bootstrap decides the admin token. A non-empty envToken (from
// DARKSHARE_ADMIN_TOKEN) is used as given and never stored; it must pass
// CheckTokenStrength, else the error wraps ErrWeakToken. Otherwise the hash
// kept in the store is used, and when there is none a token is generated, its
// hash stored, and the token returned so the caller can show it once. It
// returns "" when there is nothing to show. Sessions opened with any other
// token than the one decided here are not live.
func (s *Service) Bootstrap(ctx context.Context, envToken string) (string, error) {
	if envToken != "" {
		if err := CheckTokenStrength(envToken); err != nil {
			return "", err
		}
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
	t := newAdminToken(h)
	s.mu.Lock()
	s.current = t
	s.mu.Unlock()
}

func (s *Service) token() adminToken {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current
}

// IsAdminToken reports whether token is the admin token, in constant time.
func (s *Service) IsAdminToken(token string) bool {
	if token == "" {
		return false
	}
	want := s.token().hash
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
	if err := s.store.PutSession(ctx, hash(id), Session{Expires: expires, Token: s.token().tag}); err != nil {
		return "", time.Time{}, fmt.Errorf("store session: %w", err)
	}
	return id, expires, nil
}

// IsSession reports whether id is a live session: stored, not expired, and
// opened with the current admin token.
func (s *Service) IsSession(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	sess, err := s.store.Session(ctx, hash(id))
	switch {
	case errors.Is(err, ErrNoSession):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up session: %w", err)
	}
	tag := s.token().tag
	return tag != nil && subtle.ConstantTimeCompare(sess.Token, tag) == 1 && s.now().Before(sess.Expires), nil
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
