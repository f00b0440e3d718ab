package link

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ListQuery selects links for the admin's links page.
type ListQuery struct {
	Search  string  // part of the target URL, any case; "" for all
	Channel Channel // "" for every channel
	After   string  // the Next of the previous page; "" for the first
	Limit   int     // links per page; see PageSize
}

// ListPage is one page of links.
type ListPage struct {
	Links []Link
	Next  string // "" on the last page
}

// Bounds of a ListQuery.
const (
	DefaultListLimit = 50
	MaxListLimit     = 200
	// MaxSearchLength is MaxURLLength: a longer search cannot match.
	MaxSearchLength = MaxURLLength
	// maxCursorLength fits the base64 of the longest target key a store
	// holds (a URL, a NUL and a channel), with room to spare.
	maxCursorLength = 4 * MaxURLLength
)

var (
	// ErrBadQuery means a ListQuery is malformed: a search too long, or a
	// bad cursor.
	ErrBadQuery = errors.New("bad list query")
	// ErrBadCursor means After is not the Next of an earlier page. It wraps
	// ErrBadQuery.
	ErrBadCursor = fmt.Errorf("%w: after is not the next-page cursor of an earlier page; start again from the first page", ErrBadQuery)
)

// PageSize is q.Limit clamped to 1..MaxListLimit; DefaultListLimit when
// Limit is zero or less.
func (q ListQuery) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultListLimit
	case q.Limit > MaxListLimit:
		return MaxListLimit
	}
	return q.Limit
}

// List returns one page of the links q selects, in the order of their
// target URLs, then channel names. It returns an error wrapping ErrUnknownChannel
// for an unknown channel and ErrBadQuery for a search or cursor it refuses.
// The cursor is checked by the store, which alone knows its form.
func (s *Service) List(ctx context.Context, q ListQuery) (ListPage, error) {
	q, err := checkListQuery(q)
	if err != nil {
		return ListPage{}, err
	}
	// The store's errors are a bad cursor, whose text is for the client, or
	// its own failures, wrapped with their context.
	return s.store.List(ctx, q)
}

// checkListQuery returns q with its channel and search in canonical form.
func checkListQuery(q ListQuery) (ListQuery, error) {
	if q.Channel != "" {
		ch, err := ParseChannel(string(q.Channel))
		if err != nil {
			return ListQuery{}, err
		}
		q.Channel = ch
	}
	q.Search = strings.TrimSpace(q.Search)
	if len(q.Search) > MaxSearchLength {
		return ListQuery{}, fmt.Errorf("%w: the search is %d bytes, longer than the %d a URL may have", ErrBadQuery, len(q.Search), MaxSearchLength)
	}
	if len(q.After) > maxCursorLength {
		return ListQuery{}, ErrBadCursor
	}
	q.Limit = q.PageSize()
	return q, nil
}
