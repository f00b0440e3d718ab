package track

import (
	"fmt"
	"hash/maphash"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
)

// verdictCache remembers what a user agent and referrer were classified as.
// It sits on every redirect. Keys are 64-bit hashes of the agent and
// referrer (two random seeds per process, so a caller cannot aim for a
// collision, whose cost would be one visit counted in the wrong class), and
// values are packed verdicts: no request memory is kept.
//
// It is otter's W-TinyLFU cache, bounded by entries: a new agent enters a
// small window and reaches the main space only if it was seen more often
// than the entry it would evict, so a working set of tens of thousands of
// agents survives a flood of agents each seen once (TestVerdictCacheFlood).
//
// An agent enters the cache only when it misses a second time (seen, the
// doorkeeper of TinyLFU's paper, which otter, like Caffeine, does without):
// inserting into otter and evicting from its window cost a never-seen agent
// more than classifying it (BenchmarkClassifyFlood), and one seen once is
// most likely never seen again.
type verdictCache struct {
	uaSeed, refSeed maphash.Seed
	entries         *otter.Cache[uint64, uint32]

	// seen has a bit for every key that missed since the last reset, at a
	// hash of the key; seenKeys counts the bits set. It is cleared when
	// seenKeys reaches seenReset, before false hits (an agent let in at
	// its first miss) pass 1 in 8.
	seen     [seenBits / 64]atomic.Uint64
	seenKeys atomic.Int64
}

const (
	seenShift = 20
	seenBits  = 1 << seenShift // 128 KiB
	seenReset = seenBits / 8
)

// verdictEntries bounds the cache: 65,536 agent and referrer pairs, a few
// MiB, several times the agents a busy site sees in a day.
const verdictEntries = 1 << 16

func newVerdictCache() *verdictCache {
	return &verdictCache{
		uaSeed:  maphash.MakeSeed(),
		refSeed: maphash.MakeSeed(),
		entries: otter.Must(&otter.Options[uint64, uint32]{MaximumSize: verdictEntries}),
	}
}

// key is the hash of a user agent and referrer. Two seeds keep swapped
// strings apart.
func (vc *verdictCache) key(ua, referer string) uint64 {
	return maphash.String(vc.uaSeed, ua) ^ maphash.String(vc.refSeed, referer)
}

func (vc *verdictCache) get(key uint64) (Result, bool) {
	w, ok := vc.entries.GetIfPresent(key)
	if !ok {
		return Result{}, false
	}
	return unpackVerdict(w), true
}

// put caches key's verdict if key missed before.
func (vc *verdictCache) put(key uint64, r Result) {
	if vc.missedBefore(key) {
		vc.entries.Set(key, packVerdict(r))
	}
}

// missedBefore records a miss of key and reports whether key had missed
// since the last reset.
func (vc *verdictCache) missedBefore(key uint64) bool {
	// Fibonacci hashing spreads any keys, even ones that differ in low bits only.
	i := key * 0x9e3779b97f4a7c15 >> (64 - seenShift)
	bit := uint64(1) << (i % 64)
	if vc.seen[i/64].Or(bit)&bit != 0 {
		return true
	}
	// Add returns each count once, so one caller resets; a key set while
	// it clears may be dropped, and then waits for one more miss.
	if vc.seenKeys.Add(1) == seenReset {
		for j := range vc.seen {
			vc.seen[j].Store(0)
		}
		vc.seenKeys.Store(0)
	}
	return false
}

// A verdict word: bits 0-1 the class, 2-3 the device, 4-7 the referrer,
// 8-15 the app's index in verdictApps.
func packVerdict(r Result) uint32 {
	return uint32(r.Class) | uint32(r.Device)<<2 | uint32(r.Referrer)<<4 | uint32(verdictAppIndex[r.App])<<8
}

func unpackVerdict(w uint32) Result {
	return Result{
		Class:    Class(w & 3),
		Device:   Device(w >> 2 & 3),
		Referrer: Referrer(w >> 4 & 15),
		App:      verdictApps[w>>8&255],
	}
}

// verdictApps is every App a Result can name, "" first, so that a verdict word
// can hold an index instead of the name; verdictAppIndex is the way back.
var verdictApps, verdictAppIndex = indexApps()

func indexApps() ([]string, map[string]uint8) {
	names := []string{""}
	index := map[string]uint8{"": 0}
	add := func(app string) {
		if _, ok := index[app]; ok {
			return
		}
		if len(names) > 255 {
			panic(fmt.Sprintf("track: more than 255 app names, too many for a verdict word (at %q)", app))
		}
		index[app] = uint8(len(names))
		names = append(names, app)
	}
	add(scannerMicrosoft)
	for _, rows := range [][]uaRow{inAppRows, previewRows, scannerRows} {
		for _, r := range rows {
			add(r.app)
		}
	}
	return names, index
}
