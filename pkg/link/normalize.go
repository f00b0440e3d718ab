package link

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// hostProfile is IDNA's lookup profile plus DNS length rules, so that every
// host it accepts is one a browser could resolve and that maps to itself.
var hostProfile = idna.New(
	idna.MapForLookup(), idna.BidiRule(), idna.CheckHyphens(true),
	idna.CheckJoiners(true), idna.VerifyDNSLength(true),
)

// MaxURLLength bounds a target URL, before and after normalisation. Browsers
// and chat apps truncate or refuse far shorter ones, so longer input is abuse.
const MaxURLLength = 2048

// trackingPrefixes and trackingParams are query parameters that identify a
// campaign or a click rather than a page. Two shares of one page that differ
// only in them must give the same code, so they are stripped.
var trackingPrefixes = []string{"utm_", "mtm_", "__hs"}

var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true,
	"wbraid": true, "msclkid": true, "mc_eid": true, "mc_cid": true, "igshid": true,
	"yclid": true, "twclid": true, "ttclid": true, "li_fat_id": true, "_ga": true,
	"_gl": true, "_hsenc": true, "_hsmi": true, "hsctatrk": true, "mkt_tok": true,
	"oly_anon_id": true, "oly_enc_id": true, "vero_id": true, "rb_clickid": true,
	"s_cid": true, "srsltid": true, "epik": true, "xtor": true, "ref_src": true,
	"pk_campaign": true, "pk_kwd": true, "pk_keyword": true, "pk_source": true,
	"pk_medium": true, "pk_content": true, "pk_cid": true,
	"at_medium": true, "at_campaign": true, "at_channel": true,
	// Our own landing marker: a page opened through a short link carries
	// it until the beacon removes it, and a share meanwhile must not mint
	// a second code for the page.
	MarkerParam: true,
}

// Normalize returns the canonical form of an http(s) target URL: lowercase
// scheme and host (IDNs in punycode, no trailing dot), no default port, no
// fragment, no tracking parameters, and "/" for an empty path. The remaining
// query keeps its order and encoding, since servers may depend on both.
//
// It returns an error wrapping ErrInvalidURL, with a message fit for the
// caller, for anything that is not an absolute http(s) URL with a host, that
// carries credentials, contains a backslash, or is longer than MaxURLLength.
func Normalize(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", fmt.Errorf("%w: url is required", ErrInvalidURL)
	case len(raw) > MaxURLLength:
		return "", fmt.Errorf("%w: url is longer than %d bytes", ErrInvalidURL, MaxURLLength)
	case strings.Contains(raw, `\`):
		// Browsers read "\" as "/", so "https://a.org\@b.org" means different
		// hosts to us and to them.
		return "", fmt.Errorf("%w: url contains a backslash", ErrInvalidURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: url does not parse", ErrInvalidURL)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%w: scheme must be http or https", ErrInvalidURL)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%w: url has no host", ErrInvalidURL)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: url must not carry a user name or password", ErrInvalidURL)
	}
	host, err := NormalizeHost(u.Hostname())
	if err != nil {
		return "", err
	}
	port, err := normalizePort(scheme, u.Port())
	if err != nil {
		return "", err
	}
	out := url.URL{Scheme: scheme, Host: joinHostPort(host, port), RawQuery: stripTracking(u.RawQuery)}
	out.Path, out.RawPath = u.Path, u.RawPath
	if out.Path == "" {
		out.Path = "/"
	}
	s := out.String()
	if len(s) > MaxURLLength {
		return "", fmt.Errorf("%w: url is longer than %d bytes", ErrInvalidURL, MaxURLLength)
	}
	return s, nil
}

// NormalizeHost returns host as a browser reads it, in one spelling per
// host: a domain lowercased, without a trailing dot, an internationalised
// name in its punycode (ASCII) form; an IPv4 address in dotted decimal,
// however it was written (0x7f.1 and 2130706433 are 127.0.0.1, see ipv4.go);
// an IPv6 address, with or without brackets, in RFC 5952 form without
// brackets, or in dotted decimal if it is IPv4-mapped (::ffff:127.0.0.1 is
// 127.0.0.1, the address a browser connects to). It returns an error
// wrapping ErrInvalidURL for an empty or malformed host, an IPv6 address
// with a zone, and a host that ends in a number but is not an IPv4 address,
// such as 1.2.3.4.5 or 09: browsers refuse those URLs.
func NormalizeHost(host string) (string, error) {
	if strings.HasPrefix(host, "[") || strings.HasSuffix(host, "]") {
		if len(host) < 2 || host[0] != '[' || host[len(host)-1] != ']' {
			return "", fmt.Errorf("%w: host %q has an unmatched bracket", ErrInvalidURL, host)
		}
		return normalizeIPv6(host[1:len(host)-1], host)
	}
	if strings.Contains(host, ":") {
		return normalizeIPv6(host, host)
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", fmt.Errorf("%w: url has no host", ErrInvalidURL)
	}
	invalid := fmt.Errorf("%w: host %q is not a valid domain name", ErrInvalidURL, host)
	// IDNA would map invalid UTF-8 to U+FFFD and accept it once, not twice.
	if !utf8.ValidString(host) {
		return "", invalid
	}
	ascii, err := hostProfile.ToASCII(host)
	// Mapping can turn a full stop such as U+3002 into a new trailing dot.
	if err != nil || ascii == "" || strings.HasSuffix(ascii, ".") {
		return "", invalid
	}
	// After IDNA, as browsers do: it maps full-width digits to ASCII ones.
	if endsInANumber(ascii) {
		ip, ok := parseIPv4(ascii)
		if !ok {
			return "", fmt.Errorf("%w: host %q ends in a number but is not an IPv4 address", ErrInvalidURL, host)
		}
		return ip.String(), nil
	}
	return ascii, nil
}

// normalizeIPv6 returns the canonical form of the IPv6 literal addr, or an
// IPv4-mapped one's IPv4 address. raw is the host as given, for the error.
func normalizeIPv6(addr, raw string) (string, error) {
	ip, err := netip.ParseAddr(addr)
	// A zone means an interface of the visitor's machine; browsers refuse it.
	if err != nil || !ip.Is6() || ip.Zone() != "" {
		return "", fmt.Errorf("%w: host %q is not a valid IPv6 address", ErrInvalidURL, raw)
	}
	return ip.Unmap().String(), nil
}

func normalizePort(scheme, port string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: port %q is out of range", ErrInvalidURL, port)
	}
	if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
		return "", nil
	}
	return strconv.Itoa(n), nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

// stripTracking drops tracking parameters and empty pairs from a raw query,
// leaving every other pair byte for byte as it was.
func stripTracking(rawQuery string) string {
	kept := queryPairs(rawQuery, func(key string, ok bool) bool { return !ok || !isTracking(strings.ToLower(key)) })
	for i, pair := range kept {
		kept[i] = escapeSpaces(pair)
	}
	return strings.Join(kept, "&")
}

// queryPairs returns the pairs of a raw query that keep accepts, byte for
// byte, leaving out empty ones. keep is given the pair's key unescaped,
// and ok false if the key does not unescape.
func queryPairs(rawQuery string, keep func(key string, ok bool) bool) []string {
	var kept []string
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		key, _, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(key)
		if keep(k, err == nil) {
			kept = append(kept, pair)
		}
	}
	return kept
}

// escapeSpaces percent-encodes white space, as browsers send it, so that
// no space can end up at the end of the URL once what followed is dropped.
func escapeSpaces(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if unicode.IsSpace(r) {
			for i := range size {
				fmt.Fprintf(&b, "%%%02X", s[i])
			}
		} else {
			b.WriteString(s[:size]) // the original bytes, even if not UTF-8
		}
		s = s[size:]
	}
	return b.String()
}

func isTracking(key string) bool {
	if trackingParams[key] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
