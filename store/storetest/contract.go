package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/track"
)

// Store is what every darkshare store implements, bbolt and PostgreSQL
// alike: the interfaces the contract tests check.
type Store interface {
	link.Store
	link.ChangeFeed
	track.SaltStore
	auth.KeyStore
	auth.Store
}

// Opener returns two handles on one fresh, empty database, as two
// instances of darkshare would hold, both closed at cleanup. A store that
// lets one process hold a database (bbolt) returns the same handle twice.
type Opener func(t *testing.T) (Store, Store)

// Run runs the contract tests of every interface in Store against the
// store open returns, in parallel subtests.
func Run(t *testing.T, open Opener) {
	t.Run("LinkStore", func(t *testing.T) { LinkStore(t, open) })
	t.Run("SaltStore", func(t *testing.T) { SaltStore(t, open) })
	t.Run("KeyStore", func(t *testing.T) { KeyStore(t, open) })
	t.Run("AuthStore", func(t *testing.T) { AuthStore(t, open) })
}

// runAll runs each test in a parallel subtest of its own.
func runAll(t *testing.T, open Opener, tests map[string]func(*testing.T, Opener)) {
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open)
		})
	}
}

// ctx bounds every call of a contract test: a store that hangs fails.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// created is the creation time of the links and keys tests make.
var created = time.Unix(1700000000, 0).UTC()

// creator returns a create function that hands out codes in turn, and
// fails once they run out.
func creator(codes ...string) func(link.Channel) (link.Link, error) {
	i := 0
	return func(ch link.Channel) (link.Link, error) {
		if i >= len(codes) {
			return link.Link{}, errors.New("creator ran out of codes")
		}
		i++
		return link.Link{Code: codes[i-1], Channel: ch, StatsKey: "k" + codes[i-1], CreatedAt: created}, nil
	}
}

// newLink makes a link with a random code, as link.Service does.
func newLink(url string, ch link.Channel) (link.Link, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return link.Link{}, err
	}
	code := hex.EncodeToString(b[:])
	return link.Link{Code: code, URL: url, Channel: ch, StatsKey: "k" + code, CreatedAt: created}, nil
}

func randomCreator(url string) func(link.Channel) (link.Link, error) {
	return func(ch link.Channel) (link.Link, error) { return newLink(url, ch) }
}

func codesOf(links []link.Link) string {
	codes := make([]string, len(links))
	for i, l := range links {
		codes[i] = l.Code
	}
	return strings.Join(codes, " ")
}

func mustMint(t *testing.T, s Store, url string, chs []link.Channel, codes ...string) []link.Link {
	t.Helper()
	links, err := s.Mint(ctx(t), url, chs, creator(codes...))
	if err != nil {
		t.Fatal(err)
	}
	return links
}
