package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/darkshare/darkshare/pkg/auth"
)

// Rate is how many requests one client address may make per window.
type Rate struct {
	N   int
	Per time.Duration
}

// Off reports whether the rate sets no limit.
func (r Rate) Off() bool { return r.N == 0 }

func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// ParseRate parses "N/duration" ("60/1m", "5/10s"), or "off" or "0" for no
// limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: want N/duration such as 60/1m, or off", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return Rate{}, fmt.Errorf("rate %q: the window must be a duration from 1s to 24h", s)
	}
	return Rate{N: count, Per: d}, nil
}

// Limits are the per-client rate limits. Redirects have none: a reader
// must never be kept from a page. Login is the guessing limit: wrong
// credentials per address, wherever one is checked (see guesses).
type Limits struct {
	Mint, Share, Login, View Rate
}

// DefaultLimits suit a site whose readers share a handful of pages each.
var DefaultLimits = Limits{
	Mint:  Rate{N: 60, Per: time.Minute},
	Share: Rate{N: 30, Per: time.Minute},
	Login: Rate{N: 10, Per: 10 * time.Minute},
	// A reader behind an office's one address is many readers.
	View: Rate{N: 600, Per: time.Minute},
}

// limit returns a handler that allows r per client address and answers
// 429 with Retry-After beyond it. skip, if not nil, exempts requests.
func (s *server) limit(r Rate, skip func(*fiber.Ctx) bool) fiber.Handler {
	if r.Off() {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max:          r.N,
		Expiration:   r.Per,
		Next:         skip,
		KeyGenerator: func(c *fiber.Ctx) string { return s.clientIP(c).String() },
		LimitReached: func(*fiber.Ctx) error { return fiber.ErrTooManyRequests },
	})
}

// mintsFreely exempts callers whose token may mint for any host: they are
// known and accountable.
func (s *server) mintsFreely(c *fiber.Ctx) bool {
	p, err := s.principal(c)
	return err == nil && p.Can(auth.ScopeLinksWrite)
}
