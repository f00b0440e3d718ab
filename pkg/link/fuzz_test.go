package link

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func FuzzNormalize(f *testing.F) {
	for _, tt := range normalizeTests {
		f.Add(tt.in)
	}
	// Inputs that Normalize once got wrong: each gave an output that
	// Normalize changes again, or refuses.
	for _, raw := range []string{
		// Whitespace left at the end once the fragment or the last tracking
		// pair is dropped; TrimSpace removes it on the next pass.
		"http://a.org/? #x",
		"http://a.org/?a= &utm_source=x",
		"http://a.org/?a=\u00a0&utm_source=x",
		// A trailing dot that only appears after IDNA mapping.
		"http://a.org../",
		"http://a.org\u3002/",
		// Invalid UTF-8 in the host becomes the punycode of U+FFFD.
		"http://\x84",
		"https://%84.example/",
		// A punycode label longer than x/net/idna decodes (1023 bytes).
		"http://" + strings.Repeat("u", 1024) + "\u00fc.org/",
	} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := Normalize(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("Normalize(%q): error %v does not wrap ErrInvalidURL", raw, err)
			}
			if out != "" {
				t.Fatalf("Normalize(%q) returned %q along with its error", raw, out)
			}
			return
		}
		if len(out) > MaxURLLength {
			t.Fatalf("Normalize(%q) = %q: %d bytes, over MaxURLLength", raw, out, len(out))
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which does not parse: %v", raw, out, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("Normalize(%q) = %q: scheme %q", raw, out, u.Scheme)
		}
		if u.Host == "" {
			t.Fatalf("Normalize(%q) = %q: no host", raw, out)
		}
		if u.User != nil {
			t.Fatalf("Normalize(%q) = %q: carries userinfo %q", raw, out, u.User)
		}
		if u.Fragment != "" || strings.Contains(out, "#") {
			t.Fatalf("Normalize(%q) = %q: has a fragment", raw, out)
		}
		again, err := Normalize(out)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which Normalize refuses: %v", raw, out, err)
		}
		if again != out {
			t.Fatalf("Normalize is not idempotent:\n Normalize(%q)\n = %q\n Normalize(that)\n = %q", raw, out, again)
		}
		for pair := range strings.SplitSeq(u.RawQuery, "&") {
			key, _, _ := strings.Cut(pair, "=")
			k, err := url.QueryUnescape(key)
			if err != nil {
				continue
			}
			if isTracking(strings.ToLower(k)) {
				t.Fatalf("Normalize(%q) = %q: tracking parameter %q kept", raw, out, k)
			}
		}
	})
}

func FuzzHostList(f *testing.F) {
	for _, tt := range hostListTests {
		f.Add(tt.list, "")
		for _, h := range tt.allow {
			f.Add(tt.list, h)
		}
		for _, h := range tt.deny {
			f.Add(tt.list, h)
		}
	}
	f.Fuzz(func(t *testing.T, list, host string) {
		hl, err := ParseHostList(list)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("ParseHostList(%q): error %v does not wrap ErrInvalidURL", list, err)
			}
			return
		}
		exact, domains := deriveHostList(t, list)
		if hl.Empty() != (len(exact) == 0 && len(domains) == 0) {
			t.Fatalf("ParseHostList(%q).Empty() = %v, but the list has %d exact and %d wildcard entries",
				list, hl.Empty(), len(exact), len(domains))
		}
		h, err := NormalizeHost(host)
		if err != nil {
			return
		}
		want := exact[h]
		for _, d := range domains {
			if strings.HasSuffix(h, "."+d) && len(h) > len(d)+1 {
				want = true
			}
		}
		if got := hl.Allows(h); got != want {
			t.Fatalf("ParseHostList(%q).Allows(%q) = %v; want %v (exact %v, wildcard domains %q)",
				list, h, got, want, exact, domains)
		}
	})
}

// deriveHostList re-reads an accepted list independently of HostList: the
// normalised exact hosts, and the domains of "*.domain" entries.
func deriveHostList(t *testing.T, list string) (exact map[string]bool, domains []string) {
	t.Helper()
	exact = map[string]bool{}
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		d, wildcard := strings.CutPrefix(entry, "*.")
		n, err := NormalizeHost(d)
		if err != nil {
			t.Fatalf("ParseHostList(%q) accepted entry %q, but NormalizeHost(%q) fails: %v", list, entry, d, err)
		}
		_, ipErr := netip.ParseAddr(n)
		if strings.ContainsAny(n, "*/@") || (strings.Contains(n, ":") && ipErr != nil) || (wildcard && ipErr == nil) {
			t.Fatalf("ParseHostList(%q) accepted entry %q, which normalises to %q", list, entry, n)
		}
		if wildcard {
			domains = append(domains, n)
		} else {
			exact[n] = true
		}
	}
	return exact, domains
}

// FuzzNormalizeHost checks that NormalizeHost gives one spelling per host:
// normalising again changes nothing, with or without brackets; a result that
// a browser reads as an address (it ends in a number, or holds a colon) is
// that address in netip's canonical text, IPv4 for an IPv4-mapped one; and
// no other result ends in a number.
func FuzzNormalizeHost(f *testing.F) {
	for _, tt := range ipv4Tests {
		f.Add(tt.host)
	}
	for _, h := range []string{"a.org", "Bücher.example", "[::1]", "::ffff:7f00:1", "[0:0:0:0:0:0:0:1]",
		"fe80::1%eth0", "１２７.０.０.１", "127。0。0。1", "localhost.", "0x7f.1.", "::ffff:0a00:1"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, host string) {
		n, err := NormalizeHost(host)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("NormalizeHost(%q): error %v does not wrap ErrInvalidURL", host, err)
			}
			return
		}
		again, err := NormalizeHost(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeHost(%q) = %q, but NormalizeHost(%q) = %q, %v", host, n, n, again, err)
		}
		ip, ipErr := netip.ParseAddr(n)
		switch {
		case endsInANumber(n) || strings.Contains(n, ":"):
			if ipErr != nil || ip.String() != n || ip.Is4In6() || ip.Zone() != "" {
				t.Fatalf("NormalizeHost(%q) = %q, which a browser reads as an address, but netip reads as %v, %v", host, n, ip, ipErr)
			}
			if ip.Is6() {
				if b, err := NormalizeHost("[" + n + "]"); err != nil || b != n {
					t.Fatalf("NormalizeHost([%s]) = %q, %v; want %q", n, b, err, n)
				}
			}
		case ipErr == nil:
			t.Fatalf("NormalizeHost(%q) = %q, an address, but not one a browser reads as such", host, n)
		}
	})
}
