package track

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// testTrusted is a typical deployment: loopback, a private network for the
// load balancers, and one IPv6 proxy range.
const testTrusted = "127.0.0.1, ::1, 10.0.0.0/8, 2001:db8:ffff::/48"

// clientIPTests is shared with FuzzClientIP, which seeds its corpus with it.
var clientIPTests = []struct {
	name    string
	remote  string
	xff     string
	realIP  string
	source  ProxyHeader // the header --client-ip-header names
	trusted string      // "" means testTrusted; "-" means none
	want    string
}{
	// Untrusted remote: the headers are ignored, whatever they say.
	{name: "no headers", remote: "203.0.113.7", want: "203.0.113.7"},
	{name: "spoofed X-Forwarded-For from untrusted remote", remote: "203.0.113.7", xff: "1.1.1.1", want: "203.0.113.7"},
	{name: "spoofed X-Real-IP from untrusted remote", remote: "203.0.113.7", realIP: "1.1.1.1", want: "203.0.113.7"},
	{name: "spoofed trusted-looking chain from untrusted remote", remote: "203.0.113.7", xff: "1.1.1.1, 10.0.0.2", want: "203.0.113.7"},
	{name: "no trusted proxies at all", remote: "127.0.0.1", xff: "198.51.100.4", trusted: "-", want: "127.0.0.1"},
	{name: "untrusted IPv6 remote", remote: "2001:db8:1::5", xff: "1.1.1.1", want: "2001:db8:1::5"},
	{name: "untrusted mapped remote is unmapped", remote: "::ffff:203.0.113.7", xff: "1.1.1.1", want: "203.0.113.7"},

	// Trusted remote: X-Forwarded-For from the right.
	{name: "one proxy", remote: "127.0.0.1", xff: "198.51.100.4", want: "198.51.100.4"},
	{name: "client-supplied entries on the left are ignored", remote: "127.0.0.1", xff: "6.6.6.6, 198.51.100.4", want: "198.51.100.4"},
	{name: "two proxies", remote: "10.0.0.1", xff: "198.51.100.4, 10.0.0.2", want: "198.51.100.4"},
	{name: "three proxies and a spoofed entry", remote: "10.0.0.1", xff: "6.6.6.6, 198.51.100.4, 10.1.1.1, 10.0.0.2", want: "198.51.100.4"},
	{name: "spoofed private address left of the client", remote: "127.0.0.1", xff: "10.9.9.9, 198.51.100.4", want: "198.51.100.4"},
	{name: "no spaces", remote: "127.0.0.1", xff: "6.6.6.6,198.51.100.4,10.0.0.2", want: "198.51.100.4"},
	{name: "lots of spaces and tabs", remote: "127.0.0.1", xff: " \t198.51.100.4 \t,  10.0.0.2  ", want: "198.51.100.4"},
	{name: "mapped trusted remote", remote: "::ffff:127.0.0.1", xff: "198.51.100.4", want: "198.51.100.4"},
	{name: "IPv6 remote and client", remote: "::1", xff: "2001:db8:1::5", want: "2001:db8:1::5"},
	{name: "IPv6 proxy chain", remote: "2001:db8:ffff::1", xff: "2001:db8:1::5, 2001:db8:ffff::2", want: "2001:db8:1::5"},
	{name: "IPv4 client behind IPv6 proxy", remote: "2001:db8:ffff::1", xff: "198.51.100.4", want: "198.51.100.4"},

	// Entry forms.
	{name: "IPv4 with port", remote: "127.0.0.1", xff: "198.51.100.4:5678", want: "198.51.100.4"},
	{name: "IPv6 in brackets with port", remote: "127.0.0.1", xff: "[2001:db8:1::5]:80", want: "2001:db8:1::5"},
	{name: "IPv6 in brackets", remote: "127.0.0.1", xff: "[2001:db8:1::5]", want: "2001:db8:1::5"},
	{name: "mapped client is unmapped", remote: "127.0.0.1", xff: "::ffff:198.51.100.4", want: "198.51.100.4"},
	{name: "mapped trusted proxy is skipped", remote: "127.0.0.1", xff: "198.51.100.4, ::ffff:10.0.0.2", want: "198.51.100.4"},
	{name: "zone dropped", remote: "127.0.0.1", xff: "fe80::1%eth0", want: "fe80::1"},
	{name: "trusted proxy with port is skipped", remote: "127.0.0.1", xff: "198.51.100.4, 10.0.0.2:443", want: "198.51.100.4"},

	// Nothing untrusted in X-Forwarded-For: the leftmost trusted hop, never X-Real-IP.
	{name: "X-Real-IP is not read when the source is X-Forwarded-For", remote: "127.0.0.1", xff: "198.51.100.4", realIP: "198.51.100.99", want: "198.51.100.4"},
	{name: "all trusted gives the leftmost hop", remote: "127.0.0.1", xff: "10.0.0.3, 10.0.0.2", realIP: "198.51.100.4", want: "10.0.0.3"},
	{name: "blank X-Forwarded-For gives remote, not X-Real-IP", remote: "127.0.0.1", xff: "  ", realIP: "198.51.100.4", want: "127.0.0.1"},
	{name: "trusted remote and no headers", remote: "10.0.0.1", want: "10.0.0.1"},

	// X-Real-IP as the source: the client's own X-Forwarded-For never wins.
	{name: "X-Real-IP alone", remote: "127.0.0.1", realIP: "198.51.100.4", source: XRealIP, want: "198.51.100.4"},
	{name: "client X-Forwarded-For loses to the proxy's X-Real-IP", remote: "127.0.0.1", xff: "6.6.6.6", realIP: "198.51.100.4", source: XRealIP, want: "198.51.100.4"},
	{name: "X-Real-IP with spaces and port", remote: "127.0.0.1", realIP: " 198.51.100.4:1234 ", source: XRealIP, want: "198.51.100.4"},
	{name: "X-Real-IP IPv6", remote: "127.0.0.1", realIP: "2001:db8:1::5", source: XRealIP, want: "2001:db8:1::5"},
	{name: "garbage X-Real-IP gives remote", remote: "127.0.0.1", realIP: "unknown", source: XRealIP, want: "127.0.0.1"},
	{name: "missing X-Real-IP gives remote, not X-Forwarded-For", remote: "127.0.0.1", xff: "198.51.100.4", source: XRealIP, want: "127.0.0.1"},
	{name: "spoofed X-Real-IP from untrusted remote is ignored", remote: "203.0.113.7", realIP: "1.1.1.1", source: XRealIP, want: "203.0.113.7"},

	// Garbage stops the walk at the last trusted hop.
	{name: "garbage rightmost gives remote", remote: "127.0.0.1", xff: "198.51.100.4, unknown", realIP: "198.51.100.99", want: "127.0.0.1"},
	{name: "garbage behind a trusted hop gives that hop", remote: "10.0.0.1", xff: "6.6.6.6, _hidden, 10.0.0.2", want: "10.0.0.2"},
	{name: "garbage left of the client is never reached", remote: "127.0.0.1", xff: "not-an-ip, 198.51.100.4", want: "198.51.100.4"},
	{name: "empty element stops the walk", remote: "127.0.0.1", xff: "6.6.6.6,,10.0.0.2", want: "10.0.0.2"},
	{name: "trailing comma", remote: "127.0.0.1", xff: "198.51.100.4,", want: "127.0.0.1"},
	{name: "bad port", remote: "127.0.0.1", xff: "198.51.100.4:http", want: "127.0.0.1"},
	{name: "unclosed bracket", remote: "127.0.0.1", xff: "[2001:db8:1::5", want: "127.0.0.1"},
	{name: "bracketed IPv4", remote: "127.0.0.1", xff: "[198.51.100.4]", want: "127.0.0.1"},
	{name: "junk after bracket", remote: "127.0.0.1", xff: "[2001:db8:1::5]x", want: "127.0.0.1"},
	{name: "quoted", remote: "127.0.0.1", xff: `"198.51.100.4"`, want: "127.0.0.1"},
	{name: "Forwarded syntax is not X-Forwarded-For", remote: "127.0.0.1", xff: "for=198.51.100.4", want: "127.0.0.1"},

	// An invalid remote (no socket address) is returned as is.
	{name: "invalid remote", remote: "", xff: "198.51.100.4", want: ""},
}

func parseOptAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestClientIP(t *testing.T) {
	for _, tt := range clientIPTests {
		t.Run(tt.name, func(t *testing.T) {
			list := tt.trusted
			switch list {
			case "":
				list = testTrusted
			case "-":
				list = ""
			}
			trusted, err := ParseTrustedProxies(list)
			if err != nil {
				t.Fatal(err)
			}
			value := tt.xff
			if tt.source == XRealIP {
				value = tt.realIP
			}
			got := ClientIP(parseOptAddr(tt.remote), tt.source, value, trusted)
			if want := parseOptAddr(tt.want); got != want {
				t.Errorf("ClientIP(%s, %v: %q) = %v, want %v", tt.remote, tt.source, value, got, want)
			}
		})
	}
}

func TestParseProxyHeader(t *testing.T) {
	for _, tt := range []struct {
		name string
		want ProxyHeader
		ok   bool
	}{
		{"X-Forwarded-For", XForwardedFor, true},
		{"x-forwarded-for", XForwardedFor, true},
		{" X-Real-IP ", XRealIP, true},
		{"x-real-ip", XRealIP, true},
		{"Forwarded", 0, false},
		{"X-Forwarded-For, X-Real-IP", 0, false},
		{"", 0, false},
	} {
		got, err := ParseProxyHeader(tt.name)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseProxyHeader(%q) = %v, %v; want %v, ok %v", tt.name, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    []string
		wantErr string // a part of the error, which must name the entry
	}{
		{name: "empty", list: "", want: nil},
		{name: "blank", list: " , ,", want: nil},
		{name: "one address", list: "127.0.0.1", want: []string{"127.0.0.1/32"}},
		{name: "IPv6 address", list: "::1", want: []string{"::1/128"}},
		{name: "mixed list with spaces", list: "10.0.0.0/8, 127.0.0.1, ::1", want: []string{"10.0.0.0/8", "127.0.0.1/32", "::1/128"}},
		{name: "IPv6 prefix", list: "2001:db8::/32", want: []string{"2001:db8::/32"}},
		{name: "host bits are masked", list: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{name: "mapped address becomes IPv4", list: "::ffff:10.0.0.1", want: []string{"10.0.0.1/32"}},
		{name: "mapped prefix becomes IPv4", list: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{name: "trailing comma", list: "127.0.0.1,", want: []string{"127.0.0.1/32"}},
		{name: "host name", list: "localhost", wantErr: `"localhost"`},
		{name: "bad prefix length", list: "10.0.0.0/33", wantErr: `"10.0.0.0/33"`},
		{name: "bad entry among good ones", list: "127.0.0.1, 10.0.0.0/8x, ::1", wantErr: `"10.0.0.0/8x"`},
		{name: "port", list: "127.0.0.1:80", wantErr: `"127.0.0.1:80"`},
		{name: "zone", list: "fe80::1%eth0", wantErr: `"fe80::1%eth0"`},
		{name: "prefix without address", list: "/8", wantErr: `"/8"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTrustedProxies(tt.list)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseTrustedProxies(%q) = %v, want an error", tt.list, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not name the entry %s", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("ParseTrustedProxies(%q) returned %v with its error", tt.list, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTrustedProxies(%q): %v", tt.list, err)
			}
			var gotS []string
			for _, p := range got {
				gotS = append(gotS, p.String())
			}
			if !slices.Equal(gotS, tt.want) {
				t.Errorf("ParseTrustedProxies(%q) = %v, want %v", tt.list, gotS, tt.want)
			}
		})
	}
}

func BenchmarkClientIP(b *testing.B) {
	trusted, err := ParseTrustedProxies(testTrusted)
	if err != nil {
		b.Fatal(err)
	}
	remote := netip.MustParseAddr("10.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		ClientIP(remote, XForwardedFor, "6.6.6.6, 198.51.100.4, 10.0.0.2", trusted)
	}
}
