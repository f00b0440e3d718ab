package track

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/dchest/siphash"
)

// ErrNoSalt means a store keeps no salt for the day asked.
var ErrNoSalt = errors.New("no salt for that day")

// SaltStore keeps the current day's salt, so that a restart does not start
// the day's unique counts over, and so that instances sharing the store
// hash a visitor alike.
type SaltStore interface {
	// SaltOf returns day's salt. When the store has none, candidate becomes
	// it: the first salt stored for a day wins, and every caller, in any
	// process sharing the store, gets that one back. It deletes the salts of
	// earlier days, and leaves later days' alone: an instance whose clock
	// lags must not delete the salt the others use.
	SaltOf(ctx context.Context, day int64, candidate []byte) ([]byte, error)
}

// saltSize is SipHash's key size.
const saltSize = 16

// Hasher turns a visitor (client address, user agent) and a link code into a
// 64-bit ID that is stable for one UTC day and meaningless after it.
//
// The key is a random salt made for each day, never derived from the date
// or a secret: once a day's salt is replaced, nobody, us included, can
// recompute that day's IDs from an address and a user agent. The hash is
// keyed SipHash-2-4, which is fast enough for every redirect.
type Hasher struct {
	store SaltStore
	now   func() time.Time

	mu     sync.RWMutex
	day    int64 // UTC day of the salt
	k0, k1 uint64
	dirty  bool // the salt in memory is not the stored one yet
}

// NewHasher returns a Hasher with today's salt: the stored one if the store
// has it, else a new one, stored at once.
func NewHasher(ctx context.Context, store SaltStore, now func() time.Time) (*Hasher, error) {
	h := &Hasher{store: store, now: now}
	today := dayOf(now())
	if err := h.rotate(today); err != nil {
		return nil, err
	}
	if err := h.Persist(ctx); err != nil {
		return nil, fmt.Errorf("today's salt: %w", err)
	}
	return h, nil
}

func dayOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 86399) / 86400
	}
	return s / 86400
}

func (h *Hasher) setSalt(day int64, salt []byte, dirty bool) {
	h.day, h.dirty = day, dirty
	h.k0 = binary.LittleEndian.Uint64(salt[:8])
	h.k1 = binary.LittleEndian.Uint64(salt[8:])
}

// rotate makes a fresh salt for day in memory; the caller holds mu (or owns h).
func (h *Hasher) rotate(day int64) error {
	var salt [saltSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return fmt.Errorf("make salt: %w", err)
	}
	h.setSalt(day, salt[:], true)
	return nil
}

// VisitorHash returns the visitor ID of (ip, userAgent) for code, under the
// salt of the UTC day of at (when the click came), rotating it in memory
// when that day is a new one. A click from before the last rotation, which
// a request begun just before midnight can be, takes the new salt: salts
// only move forward, or they would churn at every midnight. It never
// touches the disk or reads the clock, and it allocates nothing for a user
// agent of usual length. ok is false only if no random salt could be made.
func (h *Hasher) VisitorHash(at time.Time, ip netip.Addr, userAgent, code string) (id uint64, ok bool) {
	today := dayOf(at)
	h.mu.RLock()
	k0, k1, day := h.k0, h.k1, h.day
	h.mu.RUnlock()
	if today > day {
		h.mu.Lock()
		if today > h.day {
			if err := h.rotate(today); err != nil {
				h.mu.Unlock()
				return 0, false
			}
		}
		k0, k1 = h.k0, h.k1
		h.mu.Unlock()
	}
	var buf [512]byte
	b := buf[:0]
	ip16 := ip.As16()
	b = append(b, ip16[:]...)
	b = append(b, code...)
	b = append(b, 0) // codes hold no zero byte: code and agent cannot run together
	b = append(b, userAgent...)
	return siphash.Hash(k0, k1, b), true
}

// Persist stores the current salt if it is new, deleting the previous
// day's. If another instance stored a salt for the day first, the Hasher
// takes that one: instances agree from their first Persist of a day on,
// which comes one flush after the first click of the day. Call it from the
// flush loop and at shutdown; it is cheap when nothing changed.
func (h *Hasher) Persist(ctx context.Context) error {
	h.mu.RLock()
	dirty, day := h.dirty, h.day
	var salt [saltSize]byte
	binary.LittleEndian.PutUint64(salt[:8], h.k0)
	binary.LittleEndian.PutUint64(salt[8:], h.k1)
	h.mu.RUnlock()
	if !dirty {
		return nil
	}
	stored, err := h.store.SaltOf(ctx, day, salt[:])
	if err != nil {
		return fmt.Errorf("store the salt of day %d: %w", day, err)
	}
	if len(stored) != saltSize {
		return fmt.Errorf("the stored salt of day %d has %d bytes, not %d", day, len(stored), saltSize)
	}
	h.mu.Lock()
	if h.day == day {
		h.setSalt(day, stored, false)
	}
	h.mu.Unlock()
	return nil
}
