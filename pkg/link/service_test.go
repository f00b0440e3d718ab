package link_test

import (
	"context"
	"errors"
	"sync/atomic"
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

func newServiceOn(t *testing.T, db link.Store) *link.Service {
	t.Helper()
	s, err := link.NewService(db, link.Policy{BaseURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// countedGets is the real db, with its link reads counted.
type countedGets struct {
	link.Store
	gets atomic.Int32
}

func (c *countedGets) Get(ctx context.Context, code string) (link.Link, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, code)
}

// After LoadRoutes, a redirect's lookup answers from memory for every link,
// including ones changed since, and knows unknown codes without reading
// the db.
func TestRoutesLoadedAnswerWithoutTheDB(t *testing.T) {
	db := &countedGets{Store: storetest.MustOpen(t)}
	ctx := context.Background()
	first := newServiceOn(t, db)
	var codes []string
	for _, u := range []string{"https://a.example/1", "https://a.example/2", "https://b.example/"} {
		_, links, err := first.Mint(ctx, link.MintRequest{URL: u, Channels: []string{"email", "sms"}, Trusted: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			codes = append(codes, l.Code)
		}
	}
	if _, err := first.SetDisabled(ctx, codes[0], true); err != nil {
		t.Fatal(err)
	}

	s := newServiceOn(t, db) // a restart: nothing in memory
	n, err := s.LoadRoutes(ctx)
	if err != nil || n != len(codes) {
		t.Fatalf("LoadRoutes = %d, %v; want %d links", n, err, len(codes))
	}
	if _, err := s.SetDisabled(ctx, codes[1], true); err != nil {
		t.Fatal(err)
	}
	for i, code := range codes {
		r, err := s.Route(ctx, code)
		if err != nil || r.Code != code || r.URL == "" || r.Disabled != (i < 2) {
			t.Errorf("Route(%s) = %+v, %v; want disabled=%v", code, r, err, i < 2)
		}
	}
	if err := s.Poll(ctx); err != nil { // without a feed, nothing to do
		t.Fatal(err)
	}
	for _, code := range []string{"nosuchcode", "Missing_1", "Missing_2"} {
		if _, err := s.Route(ctx, code); !errors.Is(err, link.ErrNotFound) {
			t.Errorf("unknown code %s: %v, want ErrNotFound", code, err)
		}
	}
	if n := db.gets.Load(); n != 0 {
		t.Errorf("%d link reads from the db after loading, want none", n)
	}
}

// Before LoadRoutes has run, or after an import, unknown codes are looked up
// in the db, so links minted outside the index still redirect.
func TestRoutesFallBackToTheDBUntilLoaded(t *testing.T) {
	db := storetest.MustOpen(t)
	ctx := context.Background()
	_, links, err := newServiceOn(t, db).Mint(ctx, link.MintRequest{URL: "https://a.example/", Channels: []string{"email"}, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	s := newServiceOn(t, db)
	if r, err := s.Route(ctx, links[0].Code); err != nil || r.URL != "https://a.example/" {
		t.Fatalf("before loading: %+v, %v", r, err)
	}
	if _, err := s.LoadRoutes(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []link.MintRequest{{URL: "https://c.example/", Channels: []string{"sms"}}}); err != nil {
		t.Fatal(err)
	}
	_, imported, err := s.ByURL(ctx, "https://c.example/")
	if err != nil || len(imported) != 1 {
		t.Fatalf("imported: %v, %v", imported, err)
	}
	if r, err := s.Route(ctx, imported[0].Code); err != nil || r.URL != "https://c.example/" {
		t.Fatalf("imported link after loading: %+v, %v", r, err)
	}
}

// Import says how many of the links asked for existed already, counting
// a request's channels as the policy reads them: none is every channel,
// and a channel named twice is one link.
func TestImportCountsExisting(t *testing.T) {
	ctx := context.Background()
	s := newServiceOn(t, storetest.MustOpen(t))
	reqs := []link.MintRequest{
		{URL: "https://a.example/"},                                        // every channel
		{URL: "https://b.example/", Channels: []string{"sms", "sms"}},      // one link
		{URL: "https://c.example/", Channels: []string{"no such channel"}}, // rejected
	}
	first, err := s.Import(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	all := len(link.Channels)
	if first.Minted != all+1 || first.Existing != 0 || len(first.Rejected) != 1 || first.Rejected[2] == nil {
		t.Fatalf("first import: %+v, want %d minted, none existing, request 2 rejected", first, all+1)
	}
	again, err := s.Import(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if again.Minted != 0 || again.Existing != all+1 {
		t.Fatalf("second import: %+v, want none minted, %d existing", again, all+1)
	}
}
