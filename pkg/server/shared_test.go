package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
	"github.com/darkshare/darkshare/store/storetest"
)

// newSharedEnv is one darkshare instance whose links live in the
// PostgreSQL database at url, which other instances share; the rest (the
// admin token, counts) in a bbolt file of its own. It returns the app and
// its link service, whose Poll the test calls.
func newSharedEnv(t *testing.T, url string) (*testEnv, *link.Service) {
	t.Helper()
	pg := pgtest.OpenURL(t, url)
	env := newEnv(t, storetest.MustOpen(t), "https://s.test", envSpec{links: pg, feed: pg})
	return env, env.links
}

// Two instances over one database: a link minted through one redirects
// through the other, and a change made through one reaches the other's
// redirects and its remembered mint answers at its next poll.
func TestSharedStoreInstancesAgree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, aLinks := newSharedEnv(t, url)
	b, bLinks := newSharedEnv(t, url)
	const body = `{"url":"https://news.example.org/story","channels":["email"]}`

	minted := a.mint(t, body, a.bearer()).Links[0]
	if resp, _ := b.do(t, http.MethodGet, "/"+minted.Code, "", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("a link minted on A answers %d on B, want 302", resp.StatusCode)
	}
	before := b.mint(t, body, b.bearer()).Links[0]
	if again := b.mint(t, body, b.bearer()).Links[0]; before.Code != minted.Code || again != before {
		t.Fatalf("B mints %+v then %+v, want A's link", before, again)
	}

	l, err := aLinks.RotateStatsKey(ctx, minted.Code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aLinks.SetDisabled(ctx, minted.Code, true); err != nil {
		t.Fatal(err)
	}
	if err := bLinks.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do(t, http.MethodGet, "/"+minted.Code, "", nil); resp.StatusCode != http.StatusGone {
		t.Errorf("a link disabled on A answers %d on B after its poll, want 410", resp.StatusCode)
	}
	if after := b.mint(t, body, b.bearer()).Links[0]; !strings.HasSuffix(after.StatsURL, "key="+l.StatsKey) {
		t.Errorf("after a new stats key on A, B answers the mint with %s, want key %s", after.StatsURL, l.StatsKey)
	}
}
