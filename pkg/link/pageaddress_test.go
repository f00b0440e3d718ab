package link

import (
	"net/url"
	"strings"
	"testing"
)

// The boundary of what a page address hides: secrets go, ordinary slugs,
// ids and section names stay.
func TestLooksLikeToken(t *testing.T) {
	for _, tt := range []struct {
		seg  string
		want bool
	}{
		// Slugs and ids: a separator every few characters, or long words.
		{"my-long-article-title-2026", false},
		{"top-10-tips-for-a-new-job-in-2026", false},
		{"2026-05-savings-tip", false},
		{"savings-rates-rise-again-what-it-means", false},
		{"product-sku-ABC123DEF456GHI789", false}, // words of 3: 28 characters in 8 words
		{"iPhone15ProMaxReview2026", false},       // 3.4 a word
		{"TheQuickBrownFoxJumpsOverTheLazyDog", false},
		{"supercalifragilistic2026", false},
		{"20260501120000123456", false}, // digits only: an id
		{"abcdefghijklmnopqrstuvwxyz", false},
		{"a3f9c2e17b4d8e60f1a", false}, // 19: one short of a token
		{"index.html", false},
		{"", false},
		{"caf%C3%A9-au-lait-2026-0123456789", false},
		// Tokens.
		{"a3f9c2e17b4d8e60f1a2", true},             // 20 hex digits
		{"5d41402abc4b2a76b9719d911017c592", true}, // an MD5
		{"Xk9_vB2mQp7LrT4nWz8Y", true},             // 20 of base64url
		{"Xk9_vB2mQp7LrT4nWz8Yc2E=", true},         // with padding
		{"550e8400-e29b-41d4-a716-446655440000", true},
		{"550E8400-E29B-41D4-A716-446655440000", true},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true},
		{"abcdefghij1234567890abcdefghij12", true}, // 32 with letters and digits: long enough
		{"iPhone15ProMaxReview2026Edition", false}, // 31
	} {
		if got := looksLikeToken(tt.seg); got != tt.want {
			t.Errorf("looksLikeToken(%q) = %v, want %v", tt.seg, got, tt.want)
		}
	}
}

func TestLooksLikeEmail(t *testing.T) {
	for _, tt := range []struct {
		seg  string
		want bool
	}{
		{"alice@example.com", true},
		{"a@b.c", true},
		{"@alice@mastodon.social", true},
		{"first.last+news@mail.example.org", true},
		{"@alice", false},             // a profile
		{"@alice.bsky.social", false}, // nothing before the '@'
		{"alice@localhost", false},
		{"alice@example.", false}, // nothing after the dot
		{"alice.example.com", false},
		{"", false},
	} {
		if got := looksLikeEmail(tt.seg); got != tt.want {
			t.Errorf("looksLikeEmail(%q) = %v, want %v", tt.seg, got, tt.want)
		}
	}
}

func TestPageAddress(t *testing.T) {
	defaults := pageParamSet(nil)
	for _, tt := range []struct {
		in, want string
	}{
		{"https://news.example.org/reset?token=SECRET&p=5", "https://news.example.org/reset?p=5"},
		{"https://news.example.org/u/alice@example.com", "https://news.example.org/u/:email"},
		{"https://news.example.org/u/alice%40example.com/posts", "https://news.example.org/u/:email/posts"},
		{"https://news.example.org/?p=123", "https://news.example.org/?p=123"},
		{"https://news.example.org/?page_id=2&cat=4&id=9&page=3&x=1", "https://news.example.org/?page_id=2&cat=4&id=9&page=3"},
		{"https://news.example.org/?email=bob%40example.org&sid=abc", "https://news.example.org/"},
		{"https://news.example.org/?P=1&p%5B%5D=2", "https://news.example.org/"}, // exact names only
		{"https://news.example.org/?%70=7", "https://news.example.org/?%70=7"},   // "p", encoded: kept as sent
		{"https://news.example.org/verify/5d41402abc4b2a76b9719d911017c592", "https://news.example.org/verify/:token"},
		{"https://news.example.org/a/550e8400-e29b-41d4-a716-446655440000/b", "https://news.example.org/a/:token/b"},
		{"https://news.example.org/cart;jsessionid=A1B2C3D4E5F6A7B8C9D0?id=4", "https://news.example.org/cart?id=4"},
		{"https://news.example.org/2026/05/my-long-article-title-2026", "https://news.example.org/2026/05/my-long-article-title-2026"},
		{"https://news.example.org/caf%C3%A9/", "https://news.example.org/caf%C3%A9/"},
		{"https://news.example.org/", "https://news.example.org/"},
	} {
		if got := pageAddress(tt.in, defaults); got != tt.want {
			t.Errorf("pageAddress(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := pageAddress("https://news.example.org/?story=42&p=1", pageParamSet([]string{"story"})); got != "https://news.example.org/?story=42" {
		t.Errorf("with --page-params story: %s", got)
	}
	if got := pageAddress("https://news.example.org/a?p=1", pageParamSet([]string{})); got != "https://news.example.org/a" {
		t.Errorf("with no page parameters: %s", got)
	}
}

func TestParsePageParams(t *testing.T) {
	got, err := ParsePageParams(" p, page_id ,,story ")
	if err != nil || strings.Join(got, "|") != "p|page_id|story" {
		t.Errorf("ParsePageParams = %q, %v", got, err)
	}
	if got, err := ParsePageParams(""); err != nil || got == nil || len(got) != 0 {
		t.Errorf(`ParsePageParams("") = %#v, %v; want an empty list: no parameter kept`, got, err)
	}
	for _, bad := range []string{"a=b", "a&b", "a b", "a#", "a%20", "a+b"} {
		if _, err := ParsePageParams(bad); err == nil {
			t.Errorf("ParsePageParams(%q) accepted", bad)
		}
	}
}

// FuzzPageAddress checks what a page address keeps of any URL Normalize
// accepts: a URL Normalize leaves as it is, the same once more, with no
// parameter off the list and no segment that looks like a secret.
func FuzzPageAddress(f *testing.F) {
	for _, s := range []string{
		"https://news.example.org/reset?token=SECRET&p=5",
		"https://news.example.org/u/alice@example.com",
		"https://news.example.org/a;b=c/d%2Fe?id=%zz&p",
		"https://news.example.org/x/Xk9_vB2mQp7LrT4nWz8Y==?page=2#frag",
		"http://[::1]:8080/%40a@b.c/?p=1&&p=2",
	} {
		f.Add(s)
	}
	keep := pageParamSet(nil)
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := Normalize(raw)
		if err != nil {
			return
		}
		out := pageAddress(n, keep)
		if again, err := Normalize(out); err != nil || again != out {
			t.Fatalf("pageAddress(%q) = %q, which Normalize makes %q, %v", n, out, again, err)
		}
		if again := pageAddress(out, keep); again != out {
			t.Fatalf("pageAddress is not idempotent: %q, then %q", out, again)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("pageAddress(%q) = %q, which does not parse", n, out)
		}
		for pair := range strings.SplitSeq(u.RawQuery, "&") {
			key, _, _ := strings.Cut(pair, "=")
			if k, err := url.QueryUnescape(key); u.RawQuery != "" && (pair == "" || err != nil || !keep[k]) {
				t.Fatalf("pageAddress(%q) = %q keeps the pair %q", n, out, pair)
			}
		}
		for seg := range strings.SplitSeq(u.EscapedPath(), "/") {
			d, err := url.PathUnescape(seg)
			if err != nil {
				d = seg
			}
			if strings.Contains(seg, ";") || looksLikeEmail(d) || looksLikeToken(d) {
				t.Fatalf("pageAddress(%q) = %q keeps the segment %q", n, out, seg)
			}
		}
	})
}
