// Package auth decides who is the admin: by bearer token or by a login
// session. Only hashes of tokens and session IDs are ever stored.
//
// Everything secret the server derives (the fingerprint that binds sessions
// to the admin token, the key that signs form tokens) comes from the admin
// token's hash: it changes when the token does, and every instance that
// knows the token derives the same values, with nothing more to share.
package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

var (
	// ErrUnauthorized means the credentials presented are missing or wrong.
	ErrUnauthorized = errors.New("unauthorized")
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

// StoredAdminToken is what a Store keeps of the admin token.
type StoredAdminToken struct {
	// Hash is the SHA-256 of the generated admin token: nil until an
	// instance first starts without DARKSHARE_ADMIN_TOKEN.
	Hash []byte
	// EnvTag is the fingerprint of the DARKSHARE_ADMIN_TOKEN that the
	// instance started last runs with (the one sessions carry), nil if it
	// runs with the generated token. It lets instances notice that they
	// disagree on the token; it is never a credential.
	EnvTag []byte
}

// Store keeps the admin token hash and login sessions. Every method sees
// what any other handle on the same database wrote before it.
type Store interface {
	// AdminToken returns what is stored of the admin token, in one read:
	// the zero StoredAdminToken for a new store.
	AdminToken(ctx context.Context) (StoredAdminToken, error)
	// SetAdminTokenHashIfAbsent stores hash as the generated admin token's
	// unless one is stored already, and returns the one stored then: hash
	// if it won. Handles calling it at once on a new store all get the
	// same answer, whichever won.
	SetAdminTokenHashIfAbsent(ctx context.Context, hash []byte) ([]byte, error)
	// SetAdminTokenHash stores hash, replacing any.
	SetAdminTokenHash(ctx context.Context, hash []byte) error
	// SetEnvTokenTag records the fingerprint of the DARKSHARE_ADMIN_TOKEN
	// an instance starts with, or, for nil, that it starts without one.
	SetEnvTokenTag(ctx context.Context, tag []byte) error
	// PutSession stores a session under the hash of its ID, and drops the
	// expired sessions and those opened with another admin token.
	PutSession(ctx context.Context, hash []byte, s Session) error
	// Session returns a stored session, expired or not, or an error
	// wrapping ErrNoSession.
	Session(ctx context.Context, hash []byte) (Session, error)
	// DeleteSession ends a session; an unknown one is no error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions ends every session.
	DeleteSessions(ctx context.Context) error
}

// Service checks admin credentials and API keys.
type Service struct {
	store Store
	keys  KeyStore
	now   func() time.Time
	log   *slog.Logger

	mu      sync.RWMutex
	current adminToken
	// fromEnv says that current is DARKSHARE_ADMIN_TOKEN's, which Refresh
	// keeps whatever the store holds.
	fromEnv bool
	// seenTag is the EnvTag last read from the store, so that a
	// disagreement is logged once, not every second.
	seenTag []byte
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

// Option configures a Service.
type Option func(*Service)

// WithLogger makes the Service log to log: that the admin token changed
// under it, or that instances disagree on it. The default is slog.Default().
func WithLogger(log *slog.Logger) Option { return func(s *Service) { s.log = log } }

// NewService returns a Service backed by store and keys (usually the same
// db). Call Bootstrap before use.
func NewService(store Store, keys KeyStore, opts ...Option) *Service {
	s := &Service{store: store, keys: keys, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Bootstrap decides the admin token. A non-empty envToken (from
// DARKSHARE_ADMIN_TOKEN) is used as given; it must pass CheckTokenStrength,
// else the error wraps ErrWeakToken. Only its fingerprint is stored, as
// its sessions store it, so that other instances can tell they run with
// another token. Otherwise the hash kept in the store is used, and when
// there is none a token is generated and its hash stored unless another
// instance stored one first; the token is returned only if its hash was
// the one stored, so that of instances starting together on a new
// database exactly one shows it. It returns "" when there is nothing to
// show. Sessions opened with any other token than the one decided here
// are not live.
func (s *Service) Bootstrap(ctx context.Context, envToken string) (string, error) {
	if envToken != "" {
		if err := CheckTokenStrength(envToken); err != nil {
			return "", err
		}
		t := newAdminToken(hash(envToken))
		if err := s.store.SetEnvTokenTag(ctx, t.tag); err != nil {
			return "", fmt.Errorf("record the admin token's fingerprint: %w", err)
		}
		s.start(t, true)
		return "", nil
	}
	if err := s.store.SetEnvTokenTag(ctx, nil); err != nil {
		return "", fmt.Errorf("record the admin token's fingerprint: %w", err)
	}
	// Generated whether or not one is stored: asking first would be a
	// read before a write, which two instances could both pass.
	token, err := randomToken("dsa_")
	if err != nil {
		return "", err
	}
	h := hash(token)
	stored, err := s.store.SetAdminTokenHashIfAbsent(ctx, h)
	if err != nil {
		return "", fmt.Errorf("store admin token: %w", err)
	}
	s.start(newAdminToken(stored), false)
	if !bytes.Equal(stored, h) {
		return "", nil // stored earlier, or by the instance that won
	}
	return token, nil
}

// ResetAdminToken generates a new admin token, stores its hash and returns it.
// The old token stops working at once on this Service, and on the others
// at their next Refresh; every login session ends.
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
	s.mu.Lock()
	s.current, s.fromEnv = newAdminToken(h), false
	s.mu.Unlock()
	return token, nil
}

// start makes t the admin token. fromEnv says it is DARKSHARE_ADMIN_TOKEN's.
func (s *Service) start(t adminToken, fromEnv bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current, s.fromEnv = t, fromEnv
	s.seenTag = nil
	if fromEnv {
		s.seenTag = t.tag // what Bootstrap just recorded
	}
}

// Refresh reads what the store holds of the admin token again, in one
// query, so that a reset-admin-token run against the database reaches
// this instance: the owner calls it every second or so. With the
// generated token, a new stored hash replaces the one in use, and the old
// token, its sessions and its form tokens stop working. A
// DARKSHARE_ADMIN_TOKEN is kept whatever the store holds. Either way, it
// logs a warning once when the instance that started last runs with
// another token than this one. It returns the store's error, keeping the
// token in use; before Bootstrap it does nothing.
func (s *Service) Refresh(ctx context.Context) error {
	if s.token().hash == nil {
		return nil
	}
	st, err := s.store.AdminToken(ctx)
	if err != nil {
		return fmt.Errorf("refresh admin token: %w", err)
	}
	replaced, disagree, ours := s.follow(st)
	if replaced {
		s.log.Info("the admin token was reset in the store: the old one, its sessions and its forms no longer work here")
	}
	if disagree {
		s.log.Warn("another instance started with another admin token: each instance accepts only its own, and a session opened on one is refused by the other; give every instance the same DARKSHARE_ADMIN_TOKEN, or none",
			"this_instance", tokenSource(ours), "other_instance", tokenSource(st.EnvTag))
	}
	return nil
}

// follow takes st, just read, as the admin token unless this Service runs
// with DARKSHARE_ADMIN_TOKEN. It reports whether the hash in use changed,
// whether st's EnvTag is news that disagrees with this Service, and this
// Service's own EnvTag. A reset on this Service between the read and
// follow is undone until the next Refresh reads it.
func (s *Service) follow(st StoredAdminToken) (replaced, disagree bool, ours []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fromEnv && st.Hash != nil && !bytes.Equal(st.Hash, s.current.hash) {
		s.current, replaced = newAdminToken(bytes.Clone(st.Hash)), true
	}
	if s.fromEnv {
		ours = s.current.tag
	}
	if !bytes.Equal(st.EnvTag, s.seenTag) {
		s.seenTag = bytes.Clone(st.EnvTag)
		disagree = !bytes.Equal(st.EnvTag, ours)
	}
	return replaced, disagree, ours
}

func tokenSource(envTag []byte) string {
	if envTag == nil {
		return "the generated admin token"
	}
	return "a DARKSHARE_ADMIN_TOKEN"
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
