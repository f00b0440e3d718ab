package link

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultPageParams are the query parameters a page address keeps unless
// the service is told otherwise: the ones content management systems use
// to pick a page (WordPress's p, page_id and cat; the generic id and page).
const DefaultPageParams = "p,page_id,cat,id,page"

// Placeholders that stand, in a page address, for a path segment that
// looked like a secret.
const (
	EmailPlaceholder = ":email"
	TokenPlaceholder = ":token"
)

// ParsePageParams parses a comma list of query parameter names, as
// --page-params gives it. Surrounding space and empty entries are ignored,
// so "" keeps no parameter. It returns an error for a name that a query
// could not carry as it is (with '&', '=', '#', '%', '+' or white space).
func ParsePageParams(list string) ([]string, error) {
	names := []string{}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if strings.ContainsAny(name, "&=#%+ \t\r\n") {
			return nil, fmt.Errorf("page parameter %q: a name may not hold '&', '=', '#', '%%', '+' or spaces", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// pageParamSet returns names as a set; nil names means DefaultPageParams.
func pageParamSet(names []string) map[string]bool {
	if names == nil {
		names, _ = ParsePageParams(DefaultPageParams)
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// pageAddress returns the address of the page a normalised URL shows,
// keeping only what names the content: the query parameters in keep (by
// their decoded name, exactly, in their order and encoding), and the path,
// where a segment that looks like an email address or a random token is
// replaced by EmailPlaceholder or TokenPlaceholder, and path parameters
// (";jsessionid=…") are dropped. Normalize has already dropped the
// fragment. A URL that does not parse is returned as it is: Normalize
// never makes one.
func pageAddress(normalized string, keep map[string]bool) string {
	u, err := url.Parse(normalized)
	if err != nil {
		return normalized
	}
	var b strings.Builder
	b.Grow(len(normalized))
	b.WriteString(u.Scheme + "://" + u.Host)
	for i, seg := range strings.Split(u.EscapedPath(), "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(pageSegment(seg))
	}
	if q := queryPairs(u.RawQuery, func(key string, ok bool) bool { return ok && keep[key] }); len(q) > 0 {
		b.WriteString("?" + strings.Join(q, "&"))
	}
	return b.String()
}

// pageSegment returns an escaped path segment as a page address keeps it.
func pageSegment(seg string) string {
	seg, _, _ = strings.Cut(seg, ";")
	decoded, err := url.PathUnescape(seg)
	if err != nil {
		decoded = seg
	}
	switch {
	case looksLikeEmail(decoded):
		return EmailPlaceholder
	case looksLikeToken(decoded):
		return TokenPlaceholder
	}
	return seg
}

// looksLikeEmail reports whether s holds an email address: an '@' with
// something before it, and after it a '.' with something after that.
// "@alice" (a profile) is none; "alice@example.com" and
// "@alice@mastodon.social" are.
func looksLikeEmail(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		if dot := strings.LastIndexByte(s[i+1:], '.'); dot > 0 && i+1+dot < len(s)-1 {
			return true
		}
	}
	return false
}

// Bounds of looksLikeToken.
const (
	minTokenLength = 20 // shorter random strings are ids, not secrets
	// longTokenLength: past it, a run of the token alphabet with letters,
	// digits and few separators is a token whatever its words look like.
	longTokenLength = 32
	// A slug has a separator every few characters; a random token of the
	// base64url alphabet one in 32 on average.
	charsPerSeparator = 8
	// A random token splits into words (see tokenWords) of about two
	// characters; slugs and camel-case names into longer ones.
	maxTokenWordLength = 3
)

// looksLikeToken reports whether s looks like a long random token: a
// UUID (8-4-4-4-12 hex digits), or at least minTokenLength characters of
// letters, digits and the separators '-', '_' and '.' (with '=' padding at
// the end) such that
//   - it holds both a letter and a digit,
//   - it has fewer than one separator per charsPerSeparator characters
//     (my-long-article-title-2026 has one per 6.5: a slug), and
//   - it is at least longTokenLength long, or its words (tokenWords)
//     average fewer than maxTokenWordLength characters: hex and base64url
//     split into words of about two, "iPhone15ProMaxReview2026" into
//     i/Phone/15/Pro/Max/Review/2026, 3.4 on average.
func looksLikeToken(s string) bool {
	s = strings.TrimRight(s, "=")
	if isUUID(s) {
		return true
	}
	if len(s) < minTokenLength {
		return false
	}
	var letters, digits, seps int
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letters++
		case '0' <= c && c <= '9':
			digits++
		case c == '-' || c == '_' || c == '.':
			seps++
		default:
			return false
		}
	}
	if letters == 0 || digits == 0 || seps*charsPerSeparator > len(s) {
		return false
	}
	if len(s) >= longTokenLength {
		return true
	}
	return letters+digits < maxTokenWordLength*tokenWords(s)
}

// tokenWords counts the words of s, which holds ASCII letters, digits and
// separators: a word ends at a separator, between a letter and a digit,
// and before an upper-case letter that follows a lower-case one
// ("TheQuickFox" is three words, "HTMLPage" one).
func tokenWords(s string) int {
	words := 0
	var prev byte // 0 at the start and after a separator
	for i := range len(s) {
		c := s[i]
		class := charClass(c)
		if class == 0 {
			prev = 0
			continue
		}
		p := charClass(prev)
		if p == 0 || (p == 'd') != (class == 'd') || (p == 'l' && class == 'u') {
			words++
		}
		prev = c
	}
	return words
}

// charClass is 'l' for a lower-case letter, 'u' upper-case, 'd' a digit, 0
// anything else.
func charClass(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z':
		return 'l'
	case 'A' <= c && c <= 'Z':
		return 'u'
	case '0' <= c && c <= '9':
		return 'd'
	}
	return 0
}

// isUUID reports whether s is 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
