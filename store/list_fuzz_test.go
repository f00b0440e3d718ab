package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
)

// FuzzList sends arbitrary queries, as a client could, through link.Service
// to the db: each is refused with a domain error or answered with links that
// match it, after its cursor.
func FuzzList(f *testing.F) {
	db := listFixture(f, "https://a.org/", "https://b.org/Story?id=1", "https://d.org/?q=Ünïcode")
	links, err := link.NewService(db, link.Policy{BaseURL: "http://127.0.0.1:8080"})
	if err != nil {
		f.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("", "", "", 0)
	f.Add("story", "sms", "", 1)
	f.Add("ÜNÏ", "EMAIL ", enc([]byte("https://a.org/\x00email")), 2)
	f.Add("", "", enc([]byte("https://a.org/\x00fax")), -1)
	f.Add("", "", enc([]byte("\x00email")), 500)
	f.Add("", "", "aHR0cHM6Ly9hLm9yZy8AZW1haWw=", 3)
	f.Fuzz(func(t *testing.T, search, channel, after string, limit int) {
		q := link.ListQuery{Search: search, Channel: link.Channel(channel), After: after, Limit: limit}
		page, err := links.List(context.Background(), q)
		if err != nil {
			if !errors.Is(err, link.ErrBadQuery) && !errors.Is(err, link.ErrUnknownChannel) {
				t.Fatalf("List(%+v): %v, want a domain error", q, err)
			}
			return
		}
		if len(page.Links) > q.PageSize() {
			t.Fatalf("List(%+v): %d links", q, len(page.Links))
		}
		needle := strings.ToLower(strings.TrimSpace(search))
		var cursor string
		if after != "" {
			cursor = string(mustDecode(t, after))
		}
		for _, l := range page.Links {
			if !strings.Contains(strings.ToLower(l.URL), needle) {
				t.Errorf("List(%+v) gave %s, which does not match", q, l.URL)
			}
			if channel != "" && !strings.EqualFold(strings.TrimSpace(channel), string(l.Channel)) {
				t.Errorf("List(%+v) gave a %s link", q, l.Channel)
			}
			if k := l.URL + "\x00" + string(l.Channel); k <= cursor {
				t.Errorf("List(%+v) gave %q, not after the cursor", q, k)
			}
		}
		if page.Next != "" {
			if _, err := links.List(context.Background(), link.ListQuery{Search: search, Channel: q.Channel, After: page.Next, Limit: limit}); err != nil {
				t.Fatalf("the next page of %+v: %v", q, err)
			}
		}
	})
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("an accepted cursor %q does not decode: %v", s, err)
	}
	return b
}
