package link

import (
	"hash/maphash"
	"sync"
	"time"
)

// MaxMissLookups is how many codes the route index does not hold a Service
// looks up in a shared store per second, at most (and at once, after a
// quiet second). Beyond it such a code answers ErrNotFound without a
// query, so that enumerating codes cannot reach the database at line rate.
// The price: under such a flood, a link another instance minted less than
// a poll ago (DefaultPollInterval) may answer not found until the poll
// brings it.
const MaxMissLookups = 100

const (
	// recentMisses bounds the codes remembered as missing: 4096 slots of
	// 16 bytes, whatever the flood.
	recentMisses = 4096
	// missMemory is how long a code stays known as missing: a poll
	// interval, by which a link minted elsewhere is in the index anyway.
	missMemory = DefaultPollInterval
)

// missGuard bounds what codes nobody holds cost a store that other
// processes share: it remembers the codes recently found missing, and
// hands out lookups from a token bucket. It only sees codes the route index
// does not hold, so a redirect of a known link never touches it.
type missGuard struct {
	mu   sync.Mutex
	seed maphash.Seed
	// recent is direct-mapped by the code's hash: a newer miss takes the
	// slot of an older one. Holding hashes, not codes, keeps it fixed in
	// size; two codes sharing a 64-bit hash is not worth a thought.
	recent [recentMisses]recentMiss
	tokens float64
	filled time.Time // when tokens was last topped up; zero: full
}

type recentMiss struct {
	hash  uint64
	until int64 // Unix nanoseconds; 0 in an unused slot
}

func newMissGuard() *missGuard { return &missGuard{seed: maphash.MakeSeed()} }

// allow reports whether code may be looked up in the store at now: not if
// it was found missing within missMemory, nor once MaxMissLookups were
// spent this second. A yes takes a token.
func (g *missGuard) allow(code string, now time.Time) bool {
	h := maphash.String(g.seed, code)
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.recent[h%recentMisses]; m.hash == h && now.UnixNano() < m.until {
		return false
	}
	switch elapsed := now.Sub(g.filled); {
	case g.filled.IsZero():
		g.tokens, g.filled = MaxMissLookups, now
	case elapsed > 0: // a clock that steps back refills nothing
		g.tokens, g.filled = min(MaxMissLookups, g.tokens+elapsed.Seconds()*MaxMissLookups), now
	}
	if g.tokens < 1 {
		return false
	}
	g.tokens--
	return true
}

// missed records that code was not in the store at now.
func (g *missGuard) missed(code string, now time.Time) {
	h := maphash.String(g.seed, code)
	g.mu.Lock()
	g.recent[h%recentMisses] = recentMiss{hash: h, until: now.Add(missMemory).UnixNano()}
	g.mu.Unlock()
}

// forget drops the codes remembered as missing: the store was restored.
func (g *missGuard) forget() {
	g.mu.Lock()
	clear(g.recent[:])
	g.mu.Unlock()
}
