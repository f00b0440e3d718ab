package link

import (
	"errors"
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
		if strings.ContainsAny(n, "*/:@") {
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
