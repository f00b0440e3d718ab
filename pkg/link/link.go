package link

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
	// Disabled links answer 410 instead of redirecting.
	Disabled bool `json:"disabled,omitempty"`
	// Campaign overrides the service's campaign parameters for this link;
	// nil means the service's.
	Campaign *Campaign `json:"campaign,omitempty"`
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
	// ones that do not exist yet (the store sets their URL and Channel). When create's code is taken, the store calls
	// it again; it returns an error wrapping ErrCodeTaken if that keeps failing.
	Mint(ctx context.Context, url string, channels []Channel, create func(Channel) (Link, error)) ([]Link, error)
	// MintMany is Mint for many targets in one transaction. It returns how
	// many links it created (existing ones are kept, not counted).
	MintMany(ctx context.Context, targets []Target, create func(url string, ch Channel) (Link, error)) (int, error)
	// Update applies change to the link with code atomically and returns the
	// result, or an error wrapping ErrNotFound. change must not alter Code,
	// URL or Channel: the store refuses the update if it does.
	Update(ctx context.Context, code string, change func(*Link) error) (Link, error)
	// Each calls fn with every link, in no particular order, until fn
	// returns an error, which Each returns.
	Each(ctx context.Context, fn func(Link) error) error
	// List returns one page of the links q selects (see list.go).
	List(ctx context.Context, q ListQuery) (ListPage, error)
}

// maxCodeLength is far above shortid's 9 to 11 characters.
const maxCodeLength = 32

// ValidCode reports whether s could be a code: 1 to 32 characters of
// shortid's alphabet [0-9A-Za-z_-]. Anything else is refused before a store
// lookup. It runs on every redirect, hence a table rather than a regexp, or
// a chain of comparisons that random codes make the CPU mispredict.
func ValidCode(s string) bool {
	if len(s) == 0 || len(s) > maxCodeLength {
		return false
	}
	for i := range len(s) {
		if !codeAlphabet[s[i]] {
			return false
		}
	}
	return true
}

var codeAlphabet = func() (in [256]bool) {
	for _, c := range "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-" {
		in[c] = true
	}
	return in
}()

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

// Policy says who may mint links for which targets.
type Policy struct {
	// Allow lists the hosts anonymous callers may mint for, and the origins
	// whose pages may call the API from a browser.
	Allow HostList
	// Block lists hosts no one may mint for.
	Block HostList
	// BaseURL is the service's own address. No one may mint a link to its
	// host, on any port, since a short link pointing at the service would
	// chain redirects (a loopback BaseURL is refused on its own port only)...
	BaseURL string
	// ...nor to these other addresses of it, as host:port: the address it
	// listens on. A loopback or unspecified host stands for every loopback
	// name and address at that port.
	SelfHosts []string
	// ...except to these pages of its own (the demo).
	SelfTargets []string
	// Campaign is the campaign parameters redirects add to targets, unless
	// a link has its own.
	Campaign Campaign
	// Marker adds MarkerParam=<code> to every redirect's target.
	Marker bool
	// PageParams are the query parameters a page address keeps (see
	// Page): nil means DefaultPageParams, an empty list none.
	PageParams []string
	// Feed is the change feed of a store that other processes share (such
	// as PostgreSQL), nil for a store this process holds alone (bbolt).
	// With a feed, a code missing from the loaded route index is still
	// looked up in the store, within bounds (MaxMissLookups), and the
	// caches learn other processes' changes from Poll (run by Follow).
	Feed ChangeFeed
}

// Service mints links and keeps them in memory for redirects and lookups.
// Its caches are its own: each has one owner, Service, and the ways it is
// invalidated are written beside it. Every change to a link, made by this
// process or polled from another (Poll), goes through changed; a restored
// db, or the first poll, empties them all (dropAll).
type Service struct {
	store       Store
	feed        ChangeFeed // nil: this process holds the store alone
	allow       HostList
	block       HostList
	self        selfHosts
	selfTargets map[string]bool // normalised
	ids         *shortid.Shortid
	now         func() time.Time

	mu sync.RWMutex // guards resolved, codes, targets and drops
	// resolved holds links looked up or minted since start, so that a
	// lookup costs a map read instead of a db read and a decode. Only
	// existing links go in, so random codes cannot grow it. Reads from the
	// store only fill gaps (learnLocked); a change replaces an entry
	// (changed); dropAll empties it; cleared when full.
	resolved map[string]Link
	// codes maps url \x00 channel to code for pages minted since start, so a
	// share button asking again on every page view never reaches the db.
	// A code, URL and channel never change together: only dropAll (a
	// restored db) empties it; cleared with resolved when that is full.
	codes map[string]string
	// targets remembers recent URLs as given and their normal form: the same
	// page URL comes with every page view. It depends on no stored data,
	// so nothing invalidates it; bounded, cleared when full.
	targets map[string]normalTarget
	// drops counts dropAll's, so that a read from the store begun before
	// one does not fill resolved or codes after it.
	drops uint64

	index routeIndex // every link's route, for redirects (see routeIndex)
	// misses bounds the store reads of codes a loaded index does not hold,
	// in a shared store. Its entries expire on their own; dropAll empties it.
	misses *missGuard
	follow follower // where Poll has got to in the feed
	// changes counts changes to existing links, for callers that remember
	// what Mint answered (see Changes). update and Poll move it on.
	changes atomic.Uint64

	campaign   plan // Policy.Campaign, parsed
	marker     bool
	pageParams map[string]bool // Policy.PageParams; never written after NewService
}

// Bounds of Service's memories. Each is cleared when full: simple, bounded,
// and the links in use come back within seconds. Measured at 1M links
// clicked at random, unbounded maps grew past a gigabyte.
const (
	maxRememberedTargets = 10_000
	maxRememberedLinks   = 200_000
)

type normalTarget struct {
	url, hostname, port string // port is explicit even when the URL has none
	page                string // url's page address (PageOf)
}

// NewService returns a Service that mints into store under policy. It returns
// an error if the policy's BaseURL or SelfTargets are not valid URLs or its
// SelfHosts not host:port, or one wrapping ErrInvalidCampaign if its
// Campaign is invalid.
func NewService(store Store, policy Policy) (*Service, error) {
	self, err := Normalize(policy.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("base url: %w", err)
	}
	selfURL, _ := url.Parse(self)
	selfHosts, err := newSelfHosts(selfURL, policy.SelfHosts)
	if err != nil {
		return nil, fmt.Errorf("self host: %w", err)
	}
	s := &Service{store: store, feed: policy.Feed, misses: newMissGuard(), allow: policy.Allow, block: policy.Block, self: selfHosts, selfTargets: map[string]bool{}, now: time.Now, resolved: map[string]Link{}, codes: map[string]string{}, targets: map[string]normalTarget{}, index: newRouteIndex(), marker: policy.Marker, pageParams: pageParamSet(policy.PageParams)}
	if s.campaign, err = policy.Campaign.canonical().plan(); err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	for _, t := range policy.SelfTargets {
		n, err := Normalize(t)
		if err != nil {
			return nil, fmt.Errorf("self target: %w", err)
		}
		s.selfTargets[n] = true
	}
	if s.ids, err = newCodeGenerator(); err != nil {
		return nil, err
	}
	return s, nil
}

func newCodeGenerator() (*shortid.Shortid, error) {
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
	return ids, nil
}

// AllowsOrigin reports whether a browser page of origin (scheme://host[:port],
// as in an Origin header) may call the minting API: its host must be on the
// allow-list.
func (s *Service) AllowsOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return false
	}
	host, err := NormalizeHost(u.Hostname())
	return err == nil && s.allow.Allows(host)
}

// Mint normalises req.URL and returns its link for each requested channel,
// creating the missing ones. The same URL and channel always give the same
// code. It returns errors wrapping ErrInvalidURL (also for a target on this
// service), ErrUnknownChannel, ErrHostBlocked (also for a loopback target
// not on the allow-list) or ErrHostNotAllowed for a request it refuses.
func (s *Service) Mint(ctx context.Context, req MintRequest) (string, []Link, error) {
	t, err := s.check(req)
	if err != nil {
		return "", nil, err
	}
	links, drops, ok := s.minted(t)
	if ok {
		return t.URL, links, nil
	}
	gen := s.index.generation()
	links, err = s.store.Mint(ctx, t.URL, t.Channels, s.newLink(t.URL))
	if err != nil {
		return "", nil, fmt.Errorf("mint links for %s: %w", t.URL, err)
	}
	s.mu.Lock()
	if s.drops == drops {
		for _, l := range links {
			s.learnLocked(l)
			s.codes[l.URL+"\x00"+string(l.Channel)] = l.Code
		}
	}
	s.mu.Unlock()
	for _, l := range links {
		s.index.fill(s.routeOf(l), gen)
	}
	return t.URL, links, nil
}

// minted returns t's links from memory if every one of them is there, and
// the number of dropAll's so far.
func (s *Service) minted(t Target) (links []Link, drops uint64, ok bool) {
	links = make([]Link, 0, len(t.Channels))
	s.mu.RLock()
	defer s.mu.RUnlock()
	drops = s.drops
	for _, ch := range t.Channels {
		code, ok := s.codes[t.URL+"\x00"+string(ch)]
		if !ok {
			return nil, drops, false
		}
		l, ok := s.resolved[code]
		if !ok {
			return nil, drops, false
		}
		links = append(links, l)
	}
	return links, drops, true
}

// Target is a normalised URL and the channels to mint for it.
type Target struct {
	URL      string
	Channels []Channel
}

// check normalises and vets a mint request against the policy.
func (s *Service) check(req MintRequest) (Target, error) {
	t, err := s.normalize(req.URL)
	if err != nil {
		return Target{}, err
	}
	channels, err := ParseChannels(req.Channels)
	if err != nil {
		return Target{}, err
	}
	switch {
	case s.block.Allows(t.hostname):
		return Target{}, fmt.Errorf("%w: %s is on this service's blocklist", ErrHostBlocked, t.hostname)
	case s.selfTargets[t.url]: // the demo page: anyone may share it
	case s.self.has(t.hostname, t.port):
		return Target{}, fmt.Errorf("%w: url points at this service", ErrInvalidURL)
	case isLocalHost(t.hostname) && !s.allow.Allows(t.hostname):
		// A deliberate allow-list entry lets local development through.
		return Target{}, fmt.Errorf("%w: %s is this machine (loopback or unspecified); only an allow-list entry naming it lets anyone mint for it", ErrHostBlocked, t.hostname)
	case !req.Trusted && !s.allow.Allows(t.hostname):
		return Target{}, fmt.Errorf("%w: %s is not on this service's allow-list; ask its admin, or use the admin token", ErrHostNotAllowed, t.hostname)
	}
	return Target{URL: t.url, Channels: channels}, nil
}

// normalize is Normalize, remembered for the URLs seen lately.
func (s *Service) normalize(raw string) (normalTarget, error) {
	s.mu.RLock()
	t, ok := s.targets[raw]
	s.mu.RUnlock()
	if ok {
		return t, nil
	}
	n, err := Normalize(raw)
	if err != nil {
		return normalTarget{}, err
	}
	u, err := url.Parse(n)
	if err != nil {
		return normalTarget{}, fmt.Errorf("%w: url does not parse", ErrInvalidURL)
	}
	t = normalTarget{url: n, hostname: u.Hostname(), port: effectivePort(u), page: pageAddress(n, s.pageParams)}
	s.mu.Lock()
	if len(s.targets) >= maxRememberedTargets {
		clear(s.targets)
	}
	s.targets[strings.Clone(raw)] = t
	s.mu.Unlock()
	return t, nil
}

// ImportResult is what an Import did.
type ImportResult struct {
	Minted   int // links made
	Existing int // links the accepted requests asked for that existed already
	// Rejected are the requests the policy refused, by index.
	Rejected map[int]error
}

// Import mints, as the admin, the links of many pages in one store write.
// Requests the policy refuses are skipped and reported; err is only for a
// failed write, after which nothing was minted.
func (s *Service) Import(ctx context.Context, reqs []MintRequest) (ImportResult, error) {
	res := ImportResult{Rejected: make(map[int]error)}
	targets := make([]Target, 0, len(reqs))
	asked := 0
	for i, r := range reqs {
		r.Trusted = true
		t, err := s.check(r)
		if err != nil {
			res.Rejected[i] = err
			continue
		}
		targets = append(targets, t)
		asked += len(t.Channels)
	}
	// The new links are not in the route index: from now on a code missing
	// from it is looked up in the db again. A shared store's are, within a
	// poll, which brings them.
	if s.feed == nil {
		s.index.loaded.Store(false)
	}
	n, err := s.store.MintMany(ctx, targets, s.newLinkFor)
	if err != nil {
		return ImportResult{Rejected: res.Rejected}, fmt.Errorf("import %d pages: %w", len(targets), err)
	}
	res.Minted, res.Existing = n, asked-n
	return res, nil
}

func (s *Service) newLinkFor(target string, ch Channel) (Link, error) { return s.newLink(target)(ch) }

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

// Get returns the link with code, or an error wrapping ErrNotFound. code may
// be borrowed request memory: it is not kept. A link seen before is answered
// from memory without allocating. In a shared store, a code the loaded
// route index does not hold is read within the bounds of lookupMissing.
func (s *Service) Get(ctx context.Context, code string) (Link, error) {
	if !ValidCode(code) {
		return Link{}, ErrNotFound
	}
	s.mu.RLock()
	l, ok := s.resolved[code]
	drops := s.drops
	s.mu.RUnlock()
	if ok {
		return l, nil
	}
	l, err := s.read(ctx, code)
	if err != nil {
		return Link{}, err
	}
	s.mu.Lock()
	if s.drops == drops {
		s.learnLocked(l)
	}
	s.mu.Unlock()
	return l, nil
}

// read returns the link with code from the store.
func (s *Service) read(ctx context.Context, code string) (Link, error) {
	if s.feed != nil {
		if _, ok, complete := s.index.get(code); !ok && complete {
			return s.lookupMissing(ctx, code)
		}
	}
	return s.store.Get(ctx, code)
}

// learnLocked keeps l, read from the store, for Get, unless resolved holds
// its code already: a read racing a change may be older than what the
// change put there. l.Code is the store's copy, not request memory.
func (s *Service) learnLocked(l Link) {
	if _, ok := s.resolved[l.Code]; !ok {
		s.rememberLocked(l)
	}
}

func (s *Service) rememberLocked(l Link) {
	if len(s.resolved) >= maxRememberedLinks {
		clear(s.resolved)
		clear(s.codes)
	}
	s.resolved[l.Code] = l
}

// SetDisabled disables or re-enables the link with code. It returns an
// error wrapping ErrNotFound for an unknown code.
func (s *Service) SetDisabled(ctx context.Context, code string, disabled bool) (Link, error) {
	if !ValidCode(code) {
		return Link{}, ErrNotFound
	}
	return s.update(ctx, code, func(l *Link) { l.Disabled = disabled })
}

// SetCampaign gives the link with code its own campaign parameters, or with
// nil, the service's again. A campaign with the none preset turns them off
// for this link. It returns an error wrapping ErrInvalidCampaign for an
// invalid c, with nothing stored, or ErrNotFound for an unknown code.
func (s *Service) SetCampaign(ctx context.Context, code string, c *Campaign) (Link, error) {
	if !ValidCode(code) {
		return Link{}, ErrNotFound
	}
	if c != nil {
		parsed, err := ParseCampaign(*c)
		if err != nil {
			return Link{}, err
		}
		c = &parsed
	}
	return s.update(ctx, code, func(l *Link) { l.Campaign = c })
}

func (s *Service) update(ctx context.Context, code string, change func(*Link)) (Link, error) {
	l, err := s.store.Update(ctx, code, func(l *Link) error {
		change(l)
		return nil
	})
	if err != nil {
		return Link{}, err
	}
	s.changed(l, true)
	s.changes.Add(1)
	return l, nil
}

// Changes returns a number that grows with every change to an existing
// link (disabled, campaign, stats key). Mint answers the same request the
// same way as long as it does not change: new links never change what an
// earlier Mint returned.
func (s *Service) Changes() uint64 { return s.changes.Load() }

// RotateStatsKey gives the link with code a new stats key; the old one stops
// working at once. It returns an error wrapping ErrNotFound for an unknown code.
func (s *Service) RotateStatsKey(ctx context.Context, code string) (Link, error) {
	if !ValidCode(code) {
		return Link{}, ErrNotFound
	}
	key, err := NewStatsKey()
	if err != nil {
		return Link{}, err
	}
	return s.update(ctx, code, func(l *Link) { l.StatsKey = key })
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
