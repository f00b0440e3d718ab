package track

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses a comma-separated list of proxy addresses and
// CIDR prefixes ("10.0.0.0/8, 127.0.0.1, ::1"). A bare address stands for
// itself (a /32 or /128), a prefix with host bits set is masked
// ("10.1.2.3/8" is 10.0.0.0/8), and IPv4-mapped IPv6 entries are converted to
// IPv4. Empty entries are skipped; an empty list returns nil. An entry that is
// neither an address nor a prefix (or that has a zone) makes it return an
// error that quotes the entry and wraps the parse error.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parseTrusted(entry)
		if err != nil {
			return nil, fmt.Errorf("track: trusted proxy %q is not an IP address or CIDR prefix: %w", entry, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseTrusted(entry string) (netip.Prefix, error) {
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zone %q not allowed", a.Zone())
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ProxyHeader is the one request header in which trusted proxies report the
// client's address. Reading one header, never falling back to another, is what
// keeps a client from choosing its own address: a proxy that sets X-Real-IP
// usually passes on whatever X-Forwarded-For the client sent.
type ProxyHeader int

const (
	// XForwardedFor is read from the right, where each trusted proxy appended
	// the address it was connected from.
	XForwardedFor ProxyHeader = iota
	// XRealIP holds the one address the nearest proxy saw.
	XRealIP
)

// String returns the header's canonical name.
func (h ProxyHeader) String() string {
	if h == XRealIP {
		return "X-Real-IP"
	}
	return "X-Forwarded-For"
}

// ParseProxyHeader reads a header name, in any case. It returns an error
// naming the accepted ones for anything else.
func ParseProxyHeader(name string) (ProxyHeader, error) {
	for _, h := range []ProxyHeader{XForwardedFor, XRealIP} {
		if strings.EqualFold(strings.TrimSpace(name), h.String()) {
			return h, nil
		}
	}
	return 0, fmt.Errorf("track: client address header %q is not X-Forwarded-For or X-Real-IP", name)
}

// ClientIP returns the address of the client behind the proxies in trusted.
//
// The socket address remote is the answer unless it is a trusted proxy: only
// a trusted proxy's header is believed, and only the one header names. value
// is that header's value (for X-Forwarded-For, every such header joined with
// commas).
//
// X-Forwarded-For is read from the right, skipping entries that are
// themselves trusted proxies; the first untrusted entry is the client. Entries
// further left were written by the client and could say anything. An entry
// that is not an address ("unknown", an empty element, garbage) ends the walk:
// whoever is behind it is unknown, so ClientIP returns the last trusted hop it
// read (remote, if the bad entry was the rightmost one). When every entry is
// trusted, the leftmost is the client: a proxy's own request. X-Real-IP is the
// client if it parses, else remote.
//
// Entries may carry spaces and ports ("1.2.3.4:5678", "[2001:db8::1]:80").
// IPv4-mapped IPv6 addresses are unmapped and zones dropped, in remote as in
// the entries, so the result is always unmapped and zoneless.
func ClientIP(remote netip.Addr, header ProxyHeader, value string, trusted []netip.Prefix) netip.Addr {
	remote = remote.Unmap().WithZone("")
	if !isTrusted(remote, trusted) {
		return remote
	}
	if header == XRealIP {
		if a, ok := parseHop(value); ok {
			return a
		}
		return remote
	}
	if strings.TrimSpace(value) == "" {
		return remote
	}
	hop, rest := remote, value
	for {
		entry := rest
		comma := strings.LastIndexByte(rest, ',')
		if comma >= 0 {
			entry, rest = rest[comma+1:], rest[:comma]
		}
		a, ok := parseHop(entry)
		if !ok {
			return hop
		}
		if !isTrusted(a, trusted) || comma < 0 {
			return a
		}
		hop = a
	}
}

// parseHop parses one X-Forwarded-For entry or an X-Real-IP value: an
// address, optionally with a port, IPv6 optionally in brackets. It returns
// the address unmapped and without zone.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, false
	}
	var a netip.Addr
	var err error
	switch {
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if tail := s[end+1:]; tail != "" && !(tail[0] == ':' && len(tail) > 1 && isPort(tail[1:])) {
			return netip.Addr{}, false
		}
		a, err = netip.ParseAddr(s[1:end])
		if err == nil && !a.Is6() {
			return netip.Addr{}, false // "[1.2.3.4]" is not an address form
		}
	case strings.Count(s, ":") == 1:
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil || !a.IsValid() {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
