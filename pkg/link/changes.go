package link

import "context"

// ChangeKind says what a Change is about.
type ChangeKind string

// The kinds of changes a ChangeFeed records.
const (
	// ChangeLink: a link was minted, or changed (disabled or enabled, its
	// campaign, its stats key). Ref is its code.
	ChangeLink ChangeKind = "link"
	// ChangeKey: an API key was revoked. Ref is its ID.
	ChangeKey ChangeKind = "key"
)

// Change is one change to data that instances sharing a store keep in
// memory, so that each can drop its stale copy.
type Change struct {
	Seq  uint64 // grows with every change; never reused
	Kind ChangeKind
	Ref  string
}

// MaxChanges bounds the changes ChangesSince returns at once.
const MaxChanges = 1000

// ChangeFeed lists the changes made through a store that several processes
// share, so that each can learn what the others changed.
type ChangeFeed interface {
	// ChangesSince returns the changes after seq, oldest first, at most
	// MaxChanges of them; a thing changed several times since seq is listed
	// once, at its last change. latest is the Seq of the last change
	// returned, or seq when there is none: pass it to the next call. When
	// the store's sequence is behind seq (its database was restored from an
	// older copy), latest is the store's sequence, lower than seq: the
	// caller must then drop everything it holds.
	ChangesSince(ctx context.Context, seq uint64) (changes []Change, latest uint64, err error)
}
