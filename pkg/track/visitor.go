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

// ErrNoSalt is returned by a SaltStore that keeps no salt for the day asked.
var ErrNoSalt = errors.New("no salt for that day")

// SaltStore keeps the current day's salt, so that a restart does not start
// the day's unique counts over. Only one salt is ever kept.
type SaltStore interface {
	// LoadSalt returns the salt of day, or an error wrapping ErrNoSalt.
	LoadSalt(ctx context.Context, day int64) ([]byte, error)
	// ReplaceSalt keeps salt as day's and deletes every other day's salt.
	ReplaceSalt(ctx context.Context, day int64, salt []byte) error
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
// has it, else a new one, written by the next Persist.
func NewHasher(ctx context.Context, store SaltStore, now func() time.Time) (*Hasher, error) {
	h := &Hasher{store: store, now: now}
	today := dayOf(now())
	salt, err := store.LoadSalt(ctx, today)
	switch {
	case err == nil && len(salt) == saltSize:
		h.setSalt(today, salt, false)
	case err == nil || errors.Is(err, ErrNoSalt):
		if err := h.rotate(today); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("load today's salt: %w", err)
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

// Persist stores the current salt if it changed, deleting the previous
// day's. Call it from the flush loop and at shutdown; it is cheap when
// nothing changed.
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
	if err := h.store.ReplaceSalt(ctx, day, salt[:]); err != nil {
		return fmt.Errorf("store the salt of day %d: %w", day, err)
	}
	h.mu.Lock()
	if h.day == day {
		h.dirty = false
	}
	h.mu.Unlock()
	return nil
}
