package link_test

import (
	"context"
	"errors"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

// TestMintRefusesThisMachine checks the targets that lead back to the
// service or to the visitor's own machine, in each spelling a browser
// reads, for three ways to run the service. Every case mints as the admin
// unless it says anon, so that only these rules stand in the way.
func TestMintRefusesThisMachine(t *testing.T) {
	type mint struct {
		url  string
		anon bool
		want error
	}
	tests := []struct {
		name          string
		allow, base   string
		selfHosts     []string
		mints         []mint
		wantPolicyErr bool
	}{
		{
			name:  "local development: loopback allow-listed, the service on 127.0.0.1:8080",
			allow: "news.example.org,127.0.0.1", base: "http://127.0.0.1:8080", selfHosts: []string{"127.0.0.1:8080"},
			mints: []mint{
				// Another local site, allow-listed on purpose.
				{"http://127.0.0.1:9000/article", true, nil},
				{"http://2130706433:9000/article", true, nil},
				{"http://[::ffff:127.0.0.1]:9000/", true, nil},
				{"http://127.0.0.1:8080/demo", true, nil}, // the demo page, though it is the service
				// The service itself, in any spelling, at its port.
				{"http://127.0.0.1:8080/abc", false, link.ErrInvalidURL},
				{"http://localhost:8080/abc", false, link.ErrInvalidURL},
				{"http://2130706433:8080/abc", false, link.ErrInvalidURL},
				{"http://0x7f.1:8080/abc", false, link.ErrInvalidURL},
				{"http://[::1]:8080/abc", false, link.ErrInvalidURL},
				{"http://[0:0:0:0:0:0:0:1]:8080/abc", false, link.ErrInvalidURL},
				{"http://[::ffff:7f00:1]:8080/abc", false, link.ErrInvalidURL},
				{"http://0.0.0.0:8080/abc", false, link.ErrInvalidURL},
				{"http://127.0.0.2:8080/abc", false, link.ErrInvalidURL},
				{"http://a.localhost:8080/abc", false, link.ErrInvalidURL},
				{"https://127.0.0.1:8080/abc", false, link.ErrInvalidURL},
				// The machine under names and addresses not allow-listed.
				{"http://localhost:9000/", false, link.ErrHostBlocked},
				{"http://[::1]:9000/", false, link.ErrHostBlocked},
				{"http://127.0.0.2:9000/", false, link.ErrHostBlocked},
				{"http://0.0.0.0:9000/", false, link.ErrHostBlocked},
				{"http://0/", false, link.ErrHostBlocked},
				{"http://[::]/", false, link.ErrHostBlocked},
			},
		},
		{
			name:  "behind a proxy: https://s.example, listening on every address",
			allow: "news.example.org", base: "https://s.example", selfHosts: []string{"[::]:8080"},
			mints: []mint{
				{"https://news.example.org/", true, nil},
				{"https://a.s.example/", false, nil}, // a subdomain is another site
				{"http://192.0.2.1:8080/", false, nil},
				// The service's own name, on any port and scheme.
				{"https://s.example/abc", false, link.ErrInvalidURL},
				{"http://s.example/abc", false, link.ErrInvalidURL},
				{"https://s.example:8443/abc", false, link.ErrInvalidURL},
				{"https://S.Example./abc", false, link.ErrInvalidURL},
				// Its listen address.
				{"http://127.0.0.1:8080/abc", false, link.ErrInvalidURL},
				{"http://localhost:8080/abc", false, link.ErrInvalidURL},
				{"http://[::1]:8080/abc", false, link.ErrInvalidURL},
				// Loopback, not allow-listed: refused even to the admin.
				{"http://localhost/", false, link.ErrHostBlocked},
				{"http://LOCALHOST./", false, link.ErrHostBlocked},
				{"http://app.localhost/", false, link.ErrHostBlocked},
				{"http://localhost.localdomain/", false, link.ErrHostBlocked},
				{"http://127.0.0.1/", false, link.ErrHostBlocked},
				{"http://2130706433/", false, link.ErrHostBlocked},
				{"http://017700000001/", false, link.ErrHostBlocked},
				{"http://127.1/", false, link.ErrHostBlocked},
				{"http://[::1]/", false, link.ErrHostBlocked},
				{"http://[::ffff:127.0.0.1]/", false, link.ErrHostBlocked},
				{"http://0.0.0.0/", false, link.ErrHostBlocked},
				{"http://localhost/", true, link.ErrHostBlocked},
			},
		},
		{
			name:  "listening on one outside address",
			allow: "*.localhost", base: "https://s.example", selfHosts: []string{"192.0.2.7:8080"},
			mints: []mint{
				{"http://192.0.2.7:8080/abc", false, link.ErrInvalidURL},
				{"http://3221225991:8080/abc", false, link.ErrInvalidURL},
				{"http://[::ffff:c000:207]:8080/abc", false, link.ErrInvalidURL},
				{"http://192.0.2.7:8081/", false, nil},
				{"http://app.localhost:3000/", true, nil}, // allow-listed by its wildcard
				{"http://localhost:3000/", false, link.ErrHostBlocked},
			},
		},
		{name: "listen address without a port", base: "https://s.example", selfHosts: []string{"[::1]"}, wantPolicyErr: true},
		{name: "listen address with port 0", base: "https://s.example", selfHosts: []string{"127.0.0.1:0"}, wantPolicyErr: true},
		{name: "listen address not a host", base: "https://s.example", selfHosts: []string{"a/b:80"}, wantPolicyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow, err := link.ParseHostList(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			s, err := link.NewService(storetest.MustOpen(t), link.Policy{
				Allow: allow, BaseURL: tt.base, SelfHosts: tt.selfHosts, SelfTargets: []string{tt.base + "/demo"},
			})
			if tt.wantPolicyErr {
				if !errors.Is(err, link.ErrInvalidURL) {
					t.Fatalf("NewService with SelfHosts %q: %v; want an error wrapping ErrInvalidURL", tt.selfHosts, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.mints {
				_, links, err := s.Mint(context.Background(), link.MintRequest{URL: m.url, Channels: []string{"email"}, Trusted: !m.anon})
				if !errors.Is(err, m.want) || (m.want == nil && len(links) != 1) {
					t.Errorf("Mint(%s, anon=%v) = %d links, %v; want %v", m.url, m.anon, len(links), err, m.want)
				}
			}
		})
	}
}
