package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/darkshare/darkshare/pkg/link"
)

// List implements link.Store. It walks the targets bucket, whose keys
// (url \x00 channel) give the links in URL order with a page's channels
// together, in one read transaction. A search or a channel filter is
// applied to the keys as they pass, so a query that matches few links scans
// every key: about 15 ms per 100k links (BenchmarkList). The cursor
// (Next, After) is the last key shown, base64url-encoded; a malformed one
// gives link.ErrBadCursor.
func (db *DB) List(_ context.Context, q link.ListQuery) (link.ListPage, error) {
	after, err := decodeCursor(q.After)
	if err != nil {
		return link.ListPage{}, err
	}
	var page link.ListPage
	err = db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		page, err = listPage(tx, q, after)
		return err
	})
	if err != nil {
		return link.ListPage{}, fmt.Errorf("list links: %w", err)
	}
	return page, nil
}

func listPage(tx *bolt.Tx, q link.ListQuery, after []byte) (link.ListPage, error) {
	page := link.ListPage{Links: []link.Link{}}
	limit := q.PageSize()
	m := newURLMatcher(q.Search)
	c := tx.Bucket(bucketTargets).Cursor()
	k, code := c.First()
	if after != nil {
		if k, code = c.Seek(after); bytes.Equal(k, after) {
			k, code = c.Next()
		}
	}
	var last []byte
	for ; k != nil; k, code = c.Next() {
		url, ch, ok := splitTargetKey(k)
		if !ok || (q.Channel != "" && ch != q.Channel) || !m.match(url) {
			continue
		}
		if len(page.Links) == limit {
			// One more match exists: the page is not the last.
			page.Next = base64.RawURLEncoding.EncodeToString(last)
			break
		}
		l, err := getLink(tx, string(code))
		if err != nil {
			return link.ListPage{}, err
		}
		page.Links = append(page.Links, l)
		last = k // valid until the transaction ends; encoded before then
	}
	return page, nil
}

// decodeCursor returns the target key a cursor holds; nil for "".
func decodeCursor(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, link.ErrBadCursor
	}
	if _, _, ok := splitTargetKey(k); !ok {
		return nil, link.ErrBadCursor
	}
	return k, nil
}

// splitTargetKey splits a targets key into its URL and channel. It reports
// false unless both are there and the channel is known.
func splitTargetKey(k []byte) (url []byte, ch link.Channel, ok bool) {
	i := bytes.LastIndexByte(k, 0)
	if i <= 0 {
		return nil, "", false
	}
	for _, known := range link.Channels {
		if string(k[i+1:]) == string(known) {
			return k[:i], known, true
		}
	}
	return nil, "", false
}

// urlMatcher finds a search in URLs, in any case. It lowers each URL into
// one reused buffer: a search scans every key, and allocating for each
// would cost more than the scan.
type urlMatcher struct {
	needle, buf []byte
}

func newURLMatcher(search string) *urlMatcher {
	return &urlMatcher{needle: bytes.ToLower([]byte(search))}
}

func (m *urlMatcher) match(url []byte) bool {
	if len(m.needle) == 0 {
		return true
	}
	m.buf = m.buf[:0]
	for _, b := range url {
		if b >= utf8.RuneSelf {
			// Queries keep UTF-8 as given (paths are percent-encoded):
			// rare enough to lower the slow way.
			return bytes.Contains(bytes.ToLower(url), m.needle)
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		m.buf = append(m.buf, b)
	}
	return bytes.Contains(m.buf, m.needle)
}
