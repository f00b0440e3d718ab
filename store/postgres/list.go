package postgres

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/darkshare/darkshare/pkg/link"
)

// List implements link.Store, as the bbolt store does: links in the byte
// order of their URLs, then channels; a search matches the URL in any case,
// lowered as Go lowers it; the cursor is the last link shown, its URL, a
// zero byte and its channel, base64url-encoded, so a cursor from one store
// is good for the other. A malformed one gives link.ErrBadCursor. A page is
// one query along the (url, channel) index; a search reads every row.
func (db *DB) List(ctx context.Context, q link.ListQuery) (link.ListPage, error) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if q.After != "" {
		url, ch, err := decodeCursor(q.After)
		if err != nil {
			return link.ListPage{}, err
		}
		conds = append(conds, fmt.Sprintf("(url, channel) > (%s, %s)", arg(url), arg(string(ch))))
	}
	if strings.IndexByte(q.Search, 0) >= 0 {
		// No URL holds a zero byte, and PostgreSQL's text cannot.
		return link.ListPage{Links: []link.Link{}}, nil
	}
	if q.Channel != "" {
		conds = append(conds, "channel = "+arg(string(q.Channel)))
	}
	if q.Search != "" {
		conds = append(conds, fmt.Sprintf("strpos(url_lower, %s) > 0", arg(strings.ToLower(q.Search))))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	limit := q.PageSize()
	rows, err := db.pool.Query(ctx, `SELECT `+linkColumns+` FROM links `+where+` ORDER BY url, channel LIMIT `+arg(limit+1), args...)
	if err != nil {
		return link.ListPage{}, fmt.Errorf("list links: %w", err)
	}
	defer rows.Close()
	page := link.ListPage{Links: []link.Link{}}
	var last []byte // the URL of the last link shown, as stored
	for rows.Next() {
		l, url, err := scanLinkURL(rows)
		if err != nil {
			return link.ListPage{}, fmt.Errorf("list links: %w", err)
		}
		if len(page.Links) == limit {
			// One more match exists: the page is not the last.
			page.Next = encodeCursor(last, page.Links[limit-1].Channel)
			break
		}
		page.Links = append(page.Links, l)
		last = url
	}
	if err := rows.Err(); err != nil {
		return link.ListPage{}, fmt.Errorf("list links: %w", err)
	}
	return page, nil
}

// encodeCursor returns the cursor of the link of url and ch.
func encodeCursor(url []byte, ch link.Channel) string {
	return base64.RawURLEncoding.EncodeToString(append(append(url, 0), ch...))
}

// decodeCursor returns the URL (its bytes) and channel of a cursor, or
// link.ErrBadCursor unless both are there and the channel is known.
func decodeCursor(s string) ([]byte, link.Channel, error) {
	k, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, "", link.ErrBadCursor
	}
	i := bytes.LastIndexByte(k, 0)
	if i <= 0 {
		return nil, "", link.ErrBadCursor
	}
	for _, known := range link.Channels {
		if string(k[i+1:]) == string(known) {
			return k[:i], known, nil
		}
	}
	return nil, "", link.ErrBadCursor
}
