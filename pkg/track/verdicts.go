package track

import (
	"fmt"
	"hash/maphash"
	"sync/atomic"
)

// verdictCache remembers what a user agent and referrer were classified as.
// It sits on every redirect, where a map keyed by the user agent cost three
// or four cache misses (its group, then the stored key's lines to compare)
// and the referrer was parsed again each time. Here a lookup is two hashes
// of request memory that is already in cache and one load: each slot is one
// atomic word holding a packed verdict and the top bits of its key's hash,
// so no key is stored, no lock is taken and the table never grows.
//
// Slots are direct-mapped: a new key overwrites whatever shared its slot,
// and a browser's next visit classifies it again. A lookup takes another
// key's verdict only when 61 bits of the two hashes agree (the slot's 14 and
// the word's 47); the seeds are random per process, so a caller cannot aim
// for that, and its cost would be one visit counted in the wrong class.
type verdictCache struct {
	uaSeed, refSeed maphash.Seed
	slots           [verdictSlots]atomic.Uint64
}

// verdictSlots is 16,384 slots, 128 KiB: the browsers and referrers of a
// busy site fit many times over.
const verdictSlots = 1 << 14

// A verdict word: bits 0-1 the class, 2-3 the device, 4-7 the referrer,
// 8-15 the app's index in verdictApps, bit 16 set on a filled slot, and bits
// 17-63 the top of the key's hash.
const (
	verdictFilled  = 1 << 16
	fingerprintLow = 17
)

func newVerdictCache() *verdictCache {
	return &verdictCache{uaSeed: maphash.MakeSeed(), refSeed: maphash.MakeSeed()}
}

// key is the hash of a user agent and referrer. Two seeds keep swapped
// strings apart.
func (vc *verdictCache) key(ua, referer string) uint64 {
	return maphash.String(vc.uaSeed, ua) ^ maphash.String(vc.refSeed, referer)
}

func (vc *verdictCache) get(key uint64) (Result, bool) {
	w := vc.slots[key%verdictSlots].Load()
	if w&verdictFilled == 0 || w>>fingerprintLow != key>>fingerprintLow {
		return Result{}, false
	}
	return unpackVerdict(w), true
}

func (vc *verdictCache) put(key uint64, r Result) {
	vc.slots[key%verdictSlots].Store(key>>fingerprintLow<<fingerprintLow | verdictFilled | packVerdict(r))
}

func packVerdict(r Result) uint64 {
	return uint64(r.Class) | uint64(r.Device)<<2 | uint64(r.Referrer)<<4 | uint64(verdictAppIndex[r.App])<<8
}

func unpackVerdict(w uint64) Result {
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
