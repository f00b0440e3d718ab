package track

import (
	"bytes"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Referrer is the kind of page or app a person came from.
type Referrer uint8

// The referrer kinds.
const (
	RefNone      Referrer = iota // no Referer header
	RefWebmail                   // a webmail page or mail app
	RefMessenger                 // a messenger's web app or mobile app
	RefSocial                    // a social network
	RefSearch                    // a search engine
	RefOther                     // anything else, including malformed referrers
)

var referrerNames = [...]string{"none", "webmail", "messenger", "social", "search", "other"}

// String returns "none", "webmail", "messenger", "social", "search" or "other".
func (r Referrer) String() string {
	if int(r) < len(referrerNames) {
		return referrerNames[r]
	}
	return "unknown"
}

// maxHost is the longest DNS name; a longer "host" is malformed.
const maxHost = 253

// ClassifyReferrer tells the kind of a Referer header from its host. It
// returns RefNone for an empty (or blank) header and RefOther for anything
// malformed or unknown: a relative reference, a scheme other than http, https
// or android-app, an IP literal, a bad port. Hosts are compared without case,
// port or trailing dot. It does not allocate for hosts on the tables with a
// literal name (www.google.com, mail.google.com, …) or unknown; a country
// domain of a brand (www.google.co.uk) costs two small allocations and about
// half a microsecond in the public suffix lookup.
func ClassifyReferrer(referer string) Referrer {
	s := strings.TrimSpace(referer)
	if s == "" {
		return RefNone
	}
	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return RefOther // relative, or no scheme
	}
	scheme, rest := s[:colon], s[colon+1:]
	if !strings.HasPrefix(rest, "//") {
		return RefOther
	}
	rest = rest[2:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	var buf [maxHost]byte
	switch {
	case strings.EqualFold(scheme, "android-app"):
		pkg, ok := lowerName(buf[:], rest)
		if !ok {
			return RefOther
		}
		if r, found := refAndroidApps[string(pkg)]; found {
			return r
		}
		return RefOther
	case strings.EqualFold(scheme, "https"), strings.EqualFold(scheme, "http"):
	default:
		return RefOther
	}

	authority := rest
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host := authority
	if i := strings.IndexByte(authority, ':'); i >= 0 {
		host = authority[:i]
		if !isPort(authority[i+1:]) {
			return RefOther
		}
	}
	host = strings.TrimSuffix(host, ".")
	h, ok := lowerName(buf[:], host)
	if !ok {
		return RefOther // empty, too long, an IPv6 literal, or not a host name
	}
	if r, found := lookupHost(h); found {
		return r
	}
	if r, found := lookupBrandHost(h); found {
		return r
	}
	return RefOther
}

// lookupHost finds host in refHosts: the host itself, or the nearest parent
// domain whose entry covers subdomains. (Indexing a map with string(b) does
// not allocate.)
func lookupHost(host []byte) (Referrer, bool) {
	h, exact := host, true
	for {
		if e, ok := refHosts[string(h)]; ok && (exact || e.sub) {
			return e.ref, true
		}
		dot := bytes.IndexByte(h, '.')
		if dot < 0 {
			return RefNone, false
		}
		h, exact = h[dot+1:], false
	}
}

// lookupBrandHost looks host up with its ICANN public suffix replaced by "*"
// ("www.google.co.uk" as "www.google.*"), for the brands that have a domain
// in many countries.
func lookupBrandHost(h []byte) (Referrer, bool) {
	brand := false
	for _, b := range refBrands {
		if bytes.Contains(h, []byte(b)) {
			brand = true
			break
		}
	}
	if !brand {
		return RefNone, false
	}
	host := string(h)
	suffix, icann := publicsuffix.PublicSuffix(host)
	if !icann || len(suffix) >= len(host) {
		return RefNone, false // a private suffix (blogspot.com) or no registrable name
	}
	var buf [maxHost + 1]byte
	n := copy(buf[:], host[:len(host)-len(suffix)])
	buf[n] = '*'
	return lookupHost(buf[:n+1])
}

// lowerName writes s lower-cased into buf and returns that part of buf, if s
// is a plausible host or package name: 1 to len(buf) bytes of ASCII letters,
// digits, '.', '-' and '_'.
func lowerName(buf []byte, s string) ([]byte, bool) {
	if s == "" || len(s) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '-', c == '_':
		default:
			return nil, false
		}
		buf[i] = c
	}
	return buf[:len(s)], true
}

func isPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
