package link_test

import (
	"context"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

// A route carries its link's channel, whether minted by this service or
// loaded from the store: a share names the channel it went by from it.
func TestRouteCarriesChannel(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	policy := link.Policy{BaseURL: "https://s.test"}
	s, err := link.NewService(db, policy)
	if err != nil {
		t.Fatal(err)
	}
	_, links, err := s.Mint(ctx, link.MintRequest{URL: "https://news.example.org/ch", Channels: []string{"whatsapp", "qr"}, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := link.NewService(db, policy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.LoadRoutes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*link.Service{s, loaded} {
		for _, l := range links {
			if r, err := svc.Route(ctx, l.Code); err != nil || r.Channel != l.Channel {
				t.Errorf("Route(%s) = %+v, %v; want channel %s", l.Code, r, err, l.Channel)
			}
		}
	}
}
