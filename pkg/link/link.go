package link

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/teris-io/shortid"
)

// Link is one short code: a target page shared through one channel.
type Link struct {
	Code      string    `json:"code"`
	URL       string    `json:"url"` // normalised target
	Channel   Channel   `json:"channel"`
	CreatedAt time.Time `json:"created_at"`
	// StatsKey is the secret that lets its holder read this link's stats
	// without the admin token. It is never shown to anonymous minters.
	StatsKey string `json:"stats_key"`
}

// Store keeps links. Implementations must make Mint atomic: concurrent calls
// for one URL and channel end with a single code.
type Store interface {
	// Get returns the link with code, or an error wrapping ErrNotFound.
	Get(ctx context.Context, code string) (Link, error)
	// ByURL returns every link of a normalised URL, in Channels order. It
	// returns an empty slice, not an error, when there are none.
	ByURL(ctx context.Context, url string) ([]Link, error)
	// Mint returns the link of url for each channel, creating with create the
	// ones that do not exist yet. When create's code is taken, the store calls
	// it again; it returns an error wrapping ErrCodeTaken if that keeps failing.
	Mint(ctx context.Context, url string, channels []Channel, create func(Channel) (Link, error)) ([]Link, error)
}

// maxCodeLength is far above shortid's 9 to 11 characters.
const maxCodeLength = 32

// ValidCode reports whether s could be a code: 1 to 32 characters of
// shortid's alphabet [0-9A-Za-z_-]. Anything else is refused before a store
// lookup. It runs on every redirect, hence a loop rather than a regexp.
func ValidCode(s string) bool {
	if len(s) == 0 || len(s) > maxCodeLength {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// reservedCodes are first path segments the server routes itself; a code
// equal to one of them could never be reached.
var reservedCodes = map[string]bool{
	"api": true, "static": true, "stats": true, "login": true, "logout": true,
	"healthz": true, "metrics": true, "demo": true, "dashboard": true, "favicon.ico": true,
}

// MintRequest is a request for the links of one page.
type MintRequest struct {
	URL      string
	Channels []string // empty means every channel
	// Trusted callers (an admin) may mint for any host; others only for the
	// allow-list.
	Trusted bool
}

// Service mints links. It holds no mutable state of its own beyond the code
// generator, which is safe for concurrent use.
type Service struct {
	store   Store
	allow   HostList
	ownHost string // the service's own host: links to it would loop
	ids     *shortid.Shortid
	now     func() time.Time
}

// NewService returns a Service that mints into store. Anonymous callers may
// mint for hosts on allow; no one may mint for ownHost.
func NewService(store Store, allow HostList, ownHost string) (*Service, error) {
	var seed [8]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("seed code generator: %w", err)
	}
	seedN := uint64(0)
	for _, b := range seed {
		seedN = seedN<<8 | uint64(b)
	}
	ids, err := shortid.New(0, shortid.DefaultABC, seedN)
	if err != nil {
		return nil, fmt.Errorf("create code generator: %w", err)
	}
	return &Service{store: store, allow: allow, ownHost: ownHost, ids: ids, now: time.Now}, nil
}

// Mint normalises req.URL and returns its link for each requested channel,
// creating the missing ones. The same URL and channel always give the same
// code. It returns errors wrapping ErrInvalidURL, ErrUnknownChannel or
// ErrHostNotAllowed for a request it refuses.
func (s *Service) Mint(ctx context.Context, req MintRequest) (string, []Link, error) {
	target, err := Normalize(req.URL)
	if err != nil {
		return "", nil, err
	}
	channels, err := ParseChannels(req.Channels)
	if err != nil {
		return "", nil, err
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, fmt.Errorf("%w: url does not parse", ErrInvalidURL)
	}
	if u.Hostname() == s.ownHost {
		return "", nil, fmt.Errorf("%w: url points at this service", ErrInvalidURL)
	}
	if !req.Trusted && !s.allow.Allows(u.Hostname()) {
		return "", nil, fmt.Errorf("%w: %s is not on this service's allow-list; ask its admin, or use the admin token", ErrHostNotAllowed, u.Hostname())
	}
	links, err := s.store.Mint(ctx, target, channels, s.newLink(target))
	if err != nil {
		return "", nil, fmt.Errorf("mint links for %s: %w", target, err)
	}
	return target, links, nil
}

func (s *Service) newLink(target string) func(Channel) (Link, error) {
	return func(ch Channel) (Link, error) {
		code, err := s.newCode()
		if err != nil {
			return Link{}, err
		}
		key, err := NewStatsKey()
		if err != nil {
			return Link{}, err
		}
		return Link{Code: code, URL: target, Channel: ch, CreatedAt: s.now().UTC().Truncate(time.Second), StatsKey: key}, nil
	}
}

func (s *Service) newCode() (string, error) {
	for range 10 {
		code, err := s.ids.Generate()
		if err != nil {
			return "", fmt.Errorf("generate code: %w", err)
		}
		if !reservedCodes[code] {
			return code, nil
		}
	}
	return "", errors.New("generate code: only reserved words came out")
}

// Get returns the link with code, or an error wrapping ErrNotFound.
func (s *Service) Get(ctx context.Context, code string) (Link, error) {
	if !ValidCode(code) {
		return Link{}, ErrNotFound
	}
	return s.store.Get(ctx, code)
}

// ByURL normalises rawURL and returns its links (possibly none).
func (s *Service) ByURL(ctx context.Context, rawURL string) (string, []Link, error) {
	target, err := Normalize(rawURL)
	if err != nil {
		return "", nil, err
	}
	links, err := s.store.ByURL(ctx, target)
	if err != nil {
		return "", nil, fmt.Errorf("links of %s: %w", target, err)
	}
	return target, links, nil
}

// NewStatsKey returns a random 128-bit key, URL-safe.
func NewStatsKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate stats key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
