package link

import (
	"errors"
	"testing"
)

// hostListTests is shared with FuzzHostList, which seeds its corpus with every
// list and host. Hosts are written as a caller would receive them; the test
// passes them through NormalizeHost, as Allows expects.
var hostListTests = []struct {
	name      string
	list      string
	wantErr   bool
	wantEmpty bool
	allow     []string
	deny      []string
}{
	{
		name:  "exact",
		list:  "news.example.org",
		allow: []string{"news.example.org"},
		deny:  []string{"example.org", "a.news.example.org", "xnews.example.org", "news.example.org.evil.test", "news.example.com"},
	},
	{
		name:  "wildcard",
		list:  "*.example.org",
		allow: []string{"a.example.org", "a.b.example.org", "www.example.org"},
		deny:  []string{"example.org", "evilexample.org", "example.org.evil.test", "a.example.org.evil.test", "a.example.com"},
	},
	{
		name:  "bare and wildcard",
		list:  "example.org,*.example.org",
		allow: []string{"example.org", "a.example.org", "a.b.example.org"},
		deny:  []string{"evilexample.org", "example.org.evil.test"},
	},
	{
		name:  "several entries with spaces and empty entries",
		list:  " a.org , ,*.b.org,, c.org ,",
		allow: []string{"a.org", "x.b.org", "c.org"},
		deny:  []string{"b.org", "x.a.org", "d.org"},
	},
	{
		name:  "case in entry",
		list:  "NEWS.Example.ORG,*.Wild.ORG",
		allow: []string{"news.example.org", "a.wild.org"},
		deny:  []string{"wild.org"},
	},
	{
		name:  "trailing dot in entry",
		list:  "news.example.org.,*.wild.org.",
		allow: []string{"news.example.org", "a.wild.org"},
		deny:  []string{"wild.org"},
	},
	{
		name:  "hosts normalised before the check",
		list:  "news.example.org,*.wild.org",
		allow: []string{"NEWS.example.org.", "A.Wild.Org"},
	},
	{
		name:  "IDN entry matches its punycode host",
		list:  "bücher.example",
		allow: []string{"xn--bcher-kva.example", "Bücher.example", "BÜCHER.example."},
		deny:  []string{"bucher.example", "a.xn--bcher-kva.example"},
	},
	{
		name:  "IDN wildcard",
		list:  "*.Bücher.example",
		allow: []string{"www.xn--bcher-kva.example", "a.bücher.example"},
		deny:  []string{"xn--bcher-kva.example"},
	},
	{
		name:  "punycode entry matches its IDN host",
		list:  "xn--bcher-kva.example",
		allow: []string{"xn--bcher-kva.example", "bücher.example"},
	},
	{
		name:  "IPv4 entry",
		list:  "192.0.2.1",
		allow: []string{"192.0.2.1"},
		deny:  []string{"192.0.2.10", "192.0.2.2"},
	},
	{
		// Browsers read every one of these as 10.0.0.1.
		name: "IPv4 entry matches every spelling",
		list: "10.0.0.1",
		allow: []string{"10.0.0.1", "167772161", "0x0a000001", "0XA000001", "10.1", "012.0.0.1", "0xa.0.0.1",
			"10.0.1", "012.0x0.00.01", "10.0.0.1.", "１０.０.０.１", "::ffff:10.0.0.1", "[::ffff:a00:1]", "[::FFFF:0A00:0001]"},
		deny: []string{"10.0.0.2", "0x0a000002", "10.2", "10.0.0.10", "10.1.0.1", "::a00:1", "10.0.0.1.example"},
	},
	{
		name:  "IPv4 entry written another way",
		list:  "0x7f.1, 167772161",
		allow: []string{"127.0.0.1", "2130706433", "10.0.0.1", "[::ffff:127.0.0.1]"},
		deny:  []string{"127.0.0.2"},
	},
	{
		name:  "IPv6 entry matches every spelling",
		list:  "::1,[2001:db8::1]",
		allow: []string{"::1", "[::1]", "[0:0:0:0:0:0:0:1]", "0::0:1", "2001:DB8:0::1", "[2001:db8:0:0:0:0:0:1]"},
		deny:  []string{"::2", "127.0.0.1", "2001:db8::2", "localhost"},
	},
	{
		name:  "IPv4-mapped entry is its IPv4 address",
		list:  "[::ffff:127.0.0.1]",
		allow: []string{"127.0.0.1", "127.1", "::ffff:7f00:1"},
		deny:  []string{"::1"},
	},
	{name: "wildcard of an IPv4 address", list: "*.10.0.0.1", wantErr: true},
	{name: "wildcard of an IPv6 address", list: "*.::1", wantErr: true},
	{name: "ends in a number but no address", list: "1.2.3.4.5", wantErr: true},
	{name: "invalid octal", list: "09", wantErr: true},
	{name: "name then number", list: "example.255", wantErr: true},
	{name: "IPv6 with a zone", list: "fe80::1%eth0", wantErr: true},
	{name: "unclosed bracket", list: "[::1", wantErr: true},
	{name: "IPv6 with port", list: "[::1]:80", wantErr: true},
	{name: "star alone", list: "*", wantErr: true},
	{name: "star dot", list: "*.", wantErr: true},
	{name: "slash", list: "a/b", wantErr: true},
	{name: "userinfo", list: "user@host", wantErr: true},
	{name: "url", list: "https://a.org", wantErr: true},
	{name: "port", list: "a.org:8080", wantErr: true},
	{name: "double wildcard", list: "*.*.a.org", wantErr: true},
	{name: "inner wildcard", list: "a.*.org", wantErr: true},
	{name: "star without dot", list: "*a.org", wantErr: true},
	{name: "one bad entry fails the list", list: "good.org,a/b,*.fine.org", wantErr: true},
	{name: "invalid punycode", list: "xn--a.org", wantErr: true},
	{
		name:      "empty list",
		list:      "",
		wantEmpty: true,
		deny:      []string{"a.org", "example.org", "localhost", "192.0.2.1"},
	},
	{
		name:      "only separators",
		list:      " , ,, ",
		wantEmpty: true,
		deny:      []string{"a.org"},
	},
}

func TestParseHostList(t *testing.T) {
	t.Parallel()
	for _, tt := range hostListTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hl, err := ParseHostList(tt.list)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidURL) {
					t.Fatalf("ParseHostList(%q) = %+v, %v; want an error wrapping ErrInvalidURL", tt.list, hl, err)
				}
				if !hl.Empty() {
					t.Errorf("ParseHostList(%q) returned a non-empty list along with its error", tt.list)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHostList(%q): %v", tt.list, err)
			}
			if hl.Empty() != tt.wantEmpty {
				t.Errorf("ParseHostList(%q).Empty() = %v; want %v", tt.list, hl.Empty(), tt.wantEmpty)
			}
			for _, h := range tt.allow {
				if n := mustNormalizeHost(t, h); !hl.Allows(n) {
					t.Errorf("list %q: Allows(%q) = false; want true", tt.list, n)
				}
			}
			for _, h := range tt.deny {
				if n := mustNormalizeHost(t, h); hl.Allows(n) {
					t.Errorf("list %q: Allows(%q) = true; want false", tt.list, n)
				}
			}
		})
	}
}

func TestZeroHostListAllowsNothing(t *testing.T) {
	t.Parallel()
	var hl HostList
	if !hl.Empty() {
		t.Error("zero HostList: Empty() = false; want true")
	}
	for _, h := range []string{"", "a.org", "localhost"} {
		if hl.Allows(h) {
			t.Errorf("zero HostList: Allows(%q) = true; want false", h)
		}
	}
}

func mustNormalizeHost(t *testing.T, host string) string {
	t.Helper()
	n, err := NormalizeHost(host)
	if err != nil {
		t.Fatalf("NormalizeHost(%q): %v", host, err)
	}
	return n
}
