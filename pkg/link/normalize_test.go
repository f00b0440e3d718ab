package link

import (
	"errors"
	"strings"
	"testing"
)

// normalizeTest is one Normalize case. An empty want means the input must be
// refused with an error wrapping ErrInvalidURL.
type normalizeTest struct {
	name string
	in   string
	want string
}

// longPath pads "https://a.org/" to exactly n bytes.
func longPath(n int) string {
	const prefix = "https://a.org/"
	return prefix + strings.Repeat("a", n-len(prefix))
}

// normalizeTests is shared with FuzzNormalize, which seeds its corpus with
// every input.
var normalizeTests = []normalizeTest{
	// Case.
	{"lowercase scheme and host", "HTTPS://Example.ORG/Path", "https://example.org/Path"},
	{"mixed case scheme", "HtTp://EXAMPLE.org/", "http://example.org/"},
	{"path and query case kept", "https://a.org/CamelCase?Key=Value", "https://a.org/CamelCase?Key=Value"},
	{"surrounding space trimmed", " \t https://a.org/x \n", "https://a.org/x"},

	// Fragment.
	{"fragment dropped", "https://a.org/p#section", "https://a.org/p"},
	{"fragment after query dropped", "https://a.org/p?x=1#frag", "https://a.org/p?x=1"},
	{"empty fragment dropped", "https://a.org/#", "https://a.org/"},
	{"query-like fragment dropped", "https://a.org/#?utm_source=x&id=1", "https://a.org/"},

	// Ports.
	{"http default port dropped", "http://a.org:80/x", "http://a.org/x"},
	{"https default port dropped", "https://a.org:443/", "https://a.org/"},
	{"https port on http kept", "http://a.org:443/", "http://a.org:443/"},
	{"http port on https kept", "https://a.org:80/", "https://a.org:80/"},
	{"non-default port kept", "http://a.org:8080/x", "http://a.org:8080/x"},
	{"highest port kept", "https://a.org:65535/", "https://a.org:65535/"},
	{"leading zeros in port dropped", "http://a.org:08080/", "http://a.org:8080/"},
	{"default port with leading zero dropped", "http://a.org:080/", "http://a.org/"},
	{"empty port dropped", "http://a.org:/", "http://a.org/"},

	// Tracking parameters.
	{"utm of any case stripped", "https://a.org/?utm_source=x&id=7&UTM_Medium=y&Utm_Campaign=z&uTm_whatever=1", "https://a.org/?id=7"},
	{"click ids stripped", "https://a.org/a?fbclid=1&b=2&gclid=3&msclkid=4&GCLID=5", "https://a.org/a?b=2"},
	{"mailchimp stripped", "https://a.org/?mc_eid=1&mc_cid=2&q=go", "https://a.org/?q=go"},
	{"matomo and piwik stripped", "https://a.org/?mtm_source=a&MTM_Campaign=b&pk_campaign=c&pk_kwd=d&n=1", "https://a.org/?n=1"},
	{"xtor stripped", "https://a.org/?xtor=RSS-1&page=2", "https://a.org/?page=2"},
	{"piano stripped", "https://a.org/?at_medium=email&at_campaign=x&at_channel=sms&page=2", "https://a.org/?page=2"},
	{"landing marker stripped", "https://a.org/story?id=4&dsl=2ZpCZK3Qi", "https://a.org/story?id=4"},
	{"analytics and hubspot stripped", "https://a.org/?_ga=1&_gl=2&__hstc=3&__hsfp=4&_hsenc=5&v=1", "https://a.org/?v=1"},
	{"tracking key without value stripped", "https://a.org/?fbclid&x", "https://a.org/?x"},
	{"percent-encoded tracking key stripped", "https://a.org/?utm%5Fsource=x&%55TM_medium=y&k=v", "https://a.org/?k=v"},
	{"only tracking params leave no query", "https://a.org/p?utm_source=x&gclid=y", "https://a.org/p"},
	{"other params keep order", "https://a.org/?b=2&utm_source=x&a=1&c=3", "https://a.org/?b=2&a=1&c=3"},
	{"other params keep encoding", "https://a.org/?q=a%20b&utm_term=t&r=a+b&s=%2F&t=%e2%82%ac", "https://a.org/?q=a%20b&r=a+b&s=%2F&t=%e2%82%ac"},
	{"repeated keys kept", "https://a.org/?a=1&a=2&utm_id=3&a=1", "https://a.org/?a=1&a=2&a=1"},
	{"empty pairs dropped", "https://a.org/?a=1&&b=2&", "https://a.org/?a=1&b=2"},
	{"lookalike keys kept", "https://a.org/?xutm_source=1&fbclid2=2&ref=utm_source", "https://a.org/?xutm_source=1&fbclid2=2&ref=utm_source"},
	{"undecodable key kept", "https://a.org/?%zz=1&utm_a=2", "https://a.org/?%zz=1"},

	// Query and path shape.
	{"bare question mark dropped", "https://a.org/path?", "https://a.org/path"},
	{"bare question mark without path dropped", "https://a.org?", "https://a.org/"},
	{"empty path becomes slash", "https://a.org", "https://a.org/"},
	{"empty path with query", "https://a.org?x=1", "https://a.org/?x=1"},
	{"path encoding kept", "https://a.org/a%2Fb/c%20d/caf%C3%A9", "https://a.org/a%2Fb/c%20d/caf%C3%A9"},
	{"space in path escaped", "https://a.org/a b", "https://a.org/a%20b"},

	// Hosts.
	{"IDN to punycode", "https://Bücher.example/", "https://xn--bcher-kva.example/"},
	{"uppercase IDN to punycode", "https://BÜCHER.example/", "https://xn--bcher-kva.example/"},
	{"IDN subdomain to punycode", "https://www.bücher.example/x", "https://www.xn--bcher-kva.example/x"},
	{"punycode kept", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
	{"percent-encoded host decoded", "https://B%C3%BCcher.example/", "https://xn--bcher-kva.example/"},
	{"trailing dot removed", "https://a.org./", "https://a.org/"},
	{"trailing dot removed before port", "https://A.org.:8443/x", "https://a.org:8443/x"},
	{"IPv4", "http://192.0.2.1/", "http://192.0.2.1/"},
	{"IPv4 with port", "http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x"},
	{"IPv4 default port dropped", "http://192.0.2.1:80/", "http://192.0.2.1/"},
	{"IPv6 lowercased", "http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
	{"IPv6 canonical form", "https://[2001:db8:0:0:0:0:0:1]:443/", "https://[2001:db8::1]/"},
	{"IPv6 loopback with port", "http://[::1]:8080/", "http://[::1]:8080/"},
	{"IPv4-mapped IPv6 becomes IPv4", "http://[::ffff:192.0.2.1]/", "http://192.0.2.1/"},

	// Addresses as browsers read them (WHATWG URL): one spelling each, and
	// only the host changes.
	{"IPv4 as one decimal number", "http://167772161/", "http://10.0.0.1/"},
	{"IPv4 as one hex number", "http://0x0a000001/", "http://10.0.0.1/"},
	{"IPv4 in two parts", "http://10.1/", "http://10.0.0.1/"},
	{"IPv4 with an octal part", "http://012.0.0.1/", "http://10.0.0.1/"},
	{"IPv4 spelling keeps port, path and query", "https://0x7F.1:8443/a%2Fb/c?x=1&y=%20#f", "https://127.0.0.1:8443/a%2Fb/c?x=1&y=%20"},
	{"IPv4 spelling with a trailing dot", "http://2130706433./x", "http://127.0.0.1/x"},
	{"IPv4 in full-width digits", "http://１２７.０.０.１/", "http://127.0.0.1/"},
	{"IPv6 in full", "http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"},
	{"IPv4-mapped IPv6 in hex", "http://[::ffff:7f00:1]:8080/", "http://127.0.0.1:8080/"},
	{"IPv4-mapped IPv6 of loopback", "http://[::ffff:127.0.0.1]/", "http://127.0.0.1/"},
	{"name ending in hex letters is a name", "http://0x1g/", "http://0x1g/"},
	{"name with digits is a name", "http://1.2.3.4a/", "http://1.2.3.4a/"},

	// Length.
	{"exactly MaxURLLength", longPath(MaxURLLength), longPath(MaxURLLength)},

	// Refusals.
	{"empty", "", ""},
	{"whitespace only", " \t\r\n ", ""},
	{"ftp scheme", "ftp://a.org/file", ""},
	{"javascript scheme", "javascript:alert(1)", ""},
	{"javascript scheme with slashes", "javascript://a.org/%0aalert(1)", ""},
	{"mailto scheme", "mailto:someone@a.org", ""},
	{"data scheme", "data:text/html,<script>alert(1)</script>", ""},
	{"file scheme", "file:///etc/passwd", ""},
	{"no scheme", "a.org/x", ""},
	{"scheme-relative", "//a.org/x", ""},
	{"path only", "/x", ""},
	{"opaque", "http:foo", ""},
	{"single slash", "http:/a.org/x", ""},
	{"no host", "https:///x", ""},
	{"scheme only", "http://", ""},
	{"port without host", "http://:8080/", ""},
	{"user and password", "https://user:pw@a.org/", ""},
	{"user looking like the host", "https://allowed.org@evil.org/", ""},
	{"empty userinfo", "https://@a.org/", ""},
	{"backslash before at", `https://a.org\@evil.org/`, ""},
	{"backslash in path", `https://a.org/a\b`, ""},
	{"backslash as slash", `https:\\evil.org`, ""},
	{"over MaxURLLength", longPath(MaxURLLength + 1), ""},
	{"over MaxURLLength after escaping", "https://a.org/" + strings.Repeat("a ", MaxURLLength/3), ""},
	{"port 0", "http://a.org:0/", ""},
	{"port 65536", "http://a.org:65536/", ""},
	{"port 70000", "http://a.org:70000/", ""},
	{"non-numeric port", "http://a.org:abc/", ""},
	{"negative port", "http://a.org:-1/", ""},
	{"invalid punycode", "http://xn--a.org/", ""},
	{"label starting with hyphen", "http://-a.org/", ""},
	{"percent-encoded ASCII in host", "https://%61.org/", ""},
	{"control character", "https://a.org/\x7f", ""},
	{"five IPv4 parts", "http://1.2.3.4.5/", ""},
	{"invalid octal part", "http://09/", ""},
	{"IPv4 number overflow", "http://0xffffffff1/", ""},
	{"IPv4 part over 255", "http://256.0.0.1/", ""},
	{"IPv4 last part too large", "http://1.2.65536/", ""},
	{"name then a number", "http://example.255/", ""},
	{"name then an empty hex number", "http://example.0x/", ""},
	{"IPv6 zone", "http://[fe80::1%25eth0]/", ""},
	{"bracketed IPv4", "http://[127.0.0.1]/", ""},
	{"NUL", "https://a.org/\x00", ""},
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tt := range normalizeTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidURL) {
					t.Fatalf("Normalize(%q) = %q, %v; want an error wrapping ErrInvalidURL", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("Normalize(%q) returned %q along with its error; want \"\"", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// Normalising a normalised URL must not change it: stores key links by it.
func TestNormalizeIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, tt := range normalizeTests {
		if tt.want == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.want)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tt.want, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q; want it unchanged", tt.want, got)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"lowercased", "News.Example.ORG", "news.example.org"},
		{"trailing dot removed", "a.org.", "a.org"},
		{"IDN to punycode", "Bücher.example", "xn--bcher-kva.example"},
		{"IPv4", "192.0.2.1", "192.0.2.1"},
		{"IPv6 canonical", "2001:DB8:0::1", "2001:db8::1"},
		{"IPv6 in brackets", "[2001:DB8:0::1]", "2001:db8::1"},
		{"IPv4 spelling", "0x0a000001", "10.0.0.1"},
		{"IPv4-mapped", "[::ffff:7f00:1]", "127.0.0.1"},
		{"ends in a number, not an address", "a.1", ""},
		{"unmatched bracket", "[::1", ""},
		{"empty", "", ""},
		{"only a dot", ".", ""},
		{"invalid punycode", "xn--a.org", ""},
		{"slash", "a/b", ""},
		{"at sign", "user@host", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeHost(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidURL) {
					t.Fatalf("NormalizeHost(%q) = %q, %v; want an error wrapping ErrInvalidURL", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeHost(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeHost(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
