package link

import "errors"

// Sentinel errors of the domain. Callers wrap them with %w and add a message a
// client may read; pkg/server maps them to HTTP statuses in one place.
var (
	// ErrNotFound means no link has the requested code (or the caller may not
	// learn whether one has).
	ErrNotFound = errors.New("link not found")
	// ErrInvalidURL means a target URL was refused by Normalize.
	ErrInvalidURL = errors.New("invalid url")
	// ErrUnknownChannel means a channel name is not one of Channels.
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrHostNotAllowed means an anonymous caller asked for a target whose host
	// is not on the allow-list.
	ErrHostNotAllowed = errors.New("host not allowed")
	// ErrHostBlocked means the target's host is on the blocklist, or is this
	// machine (loopback) and not on the allow-list: no one, not even the
	// admin, may mint for it.
	ErrHostBlocked = errors.New("host blocked")
	// ErrDisabled means the admin disabled the link: it no longer redirects.
	ErrDisabled = errors.New("link disabled")
	// ErrInvalidCampaign means campaign parameters were refused by
	// ParseCampaign: an unknown preset, a bad name or a bad custom template.
	ErrInvalidCampaign = errors.New("invalid campaign")
	// ErrCodeTaken means a store already holds a link with a freshly minted code;
	// the minter retries with a new one.
	ErrCodeTaken = errors.New("code already taken")
)
