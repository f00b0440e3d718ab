package link_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
)

func TestServiceListChecksTheQuery(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for _, u := range []string{"https://news.example.org/a", "https://news.example.org/Story"} {
		if _, _, err := s.Mint(ctx, link.MintRequest{URL: u, Channels: []string{"email", "sms"}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		q     link.ListQuery
		links int
		err   error
	}{
		{"everything", link.ListQuery{}, 4, nil},
		{"channel in any case, spaced", link.ListQuery{Channel: " SMS "}, 2, nil},
		{"unknown channel", link.ListQuery{Channel: "fax"}, 0, link.ErrUnknownChannel},
		{"search trimmed", link.ListQuery{Search: "  story\t"}, 2, nil},
		{"longest search", link.ListQuery{Search: strings.Repeat("a", link.MaxSearchLength)}, 0, nil},
		{"search too long", link.ListQuery{Search: strings.Repeat("a", link.MaxSearchLength+1)}, 0, link.ErrBadQuery},
		{"cursor too long", link.ListQuery{After: strings.Repeat("A", 1<<20)}, 0, link.ErrBadCursor},
		{"cursor not base64", link.ListQuery{After: "not a cursor"}, 0, link.ErrBadCursor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.List(ctx, tt.q)
			if !errors.Is(err, tt.err) || len(page.Links) != tt.links {
				t.Errorf("List(%.40v) = %d links, %v; want %d, %v", tt.q, len(page.Links), err, tt.links, tt.err)
			}
		})
	}
}
