package link_test

import (
	"context"
	"errors"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

func newService(t *testing.T) *link.Service {
	t.Helper()
	allow, err := link.ParseHostList("news.example.org,*.example.com,127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := link.NewService(storetest.MustOpen(t), link.Policy{
		Allow: allow, BaseURL: "http://127.0.0.1:8080", SelfTargets: []string{"http://127.0.0.1:8080/demo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMintPolicy(t *testing.T) {
	s := newService(t)
	tests := []struct {
		url     string
		trusted bool
		want    error
	}{
		{"https://news.example.org/a", false, nil},
		{"https://a.b.example.com/", false, nil},
		{"http://127.0.0.1:9000/article", false, nil}, // another origin on the same machine
		{"http://127.0.0.1:8080/demo", false, nil},    // the demo page, though it is the service
		{"http://127.0.0.1:8080/demo#x", false, nil},
		{"https://example.com/", false, link.ErrHostNotAllowed},
		{"https://evil.test/", false, link.ErrHostNotAllowed},
		{"https://evil.test/", true, nil},
		{"http://127.0.0.1:8080/abc", false, link.ErrInvalidURL}, // a short link: would loop
		{"http://127.0.0.1:8080/abc", true, link.ErrInvalidURL},
		{"https://news.example.org/", false, nil},
	}
	for _, tt := range tests {
		_, links, err := s.Mint(context.Background(), link.MintRequest{URL: tt.url, Channels: []string{"email"}, Trusted: tt.trusted})
		if !errors.Is(err, tt.want) || (tt.want == nil && len(links) != 1) {
			t.Errorf("Mint(%s, trusted=%v) = %v, %v; want %v", tt.url, tt.trusted, links, err, tt.want)
		}
	}
}

func TestAllowsOrigin(t *testing.T) {
	s := newService(t)
	for origin, want := range map[string]bool{
		"https://news.example.org":            true,
		"https://NEWS.EXAMPLE.ORG.":           true,
		"http://127.0.0.1:5000":               true,
		"https://x.example.com":               true,
		"https://example.com":                 false,
		"https://news.example.org.evil.test":  false,
		"https://news.example.org@evil.test":  false,
		"null":                                false,
		"":                                    false,
		"ftp://news.example.org":              false,
		"https://xn--nws-hoa.example.org":     false,
		"https://news.example.org%2eevil.com": false,
	} {
		if got := s.AllowsOrigin(origin); got != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, got, want)
		}
	}
}
