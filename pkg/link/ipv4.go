package link

import (
	"net/netip"
	"strings"
)

// Browsers read many spellings of an IPv4 address: 167772161, 0x0a000001,
// 10.1 and 012.0.0.1 all mean 10.0.0.1. Go's parsers accept only the dotted
// decimal one, so without the rules below those spellings would pass as
// domain names and slip past the blocklist and the loopback checks.
//
// endsInANumber and parseIPv4 follow the WHATWG URL Standard's host parser
// (https://url.spec.whatwg.org/#concept-host-parser, step "If asciiDomain
// ends in a number"; https://url.spec.whatwg.org/#ends-in-a-number-checker,
// #concept-ipv4-parser and #ipv4-number-parser). A host that ends in a
// number but is not an IPv4 address is a failure there, so browsers refuse
// the whole URL, and so do we. nlnwa/whatwg-url implements the same rules,
// but only inside a whole URL parser, and reads "-1" or "+1" as numbers,
// which the standard does not.

// endsInANumber reports whether a browser would parse host, already mapped
// to ASCII by IDNA, as an IPv4 address rather than as a domain.
func endsInANumber(host string) bool {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok // "0x" followed by zero or more hex digits
}

// parseIPv4 returns the address a browser reads in host, or false where the
// standard's IPv4 parser fails: more than four parts, a part that is not a
// number, a part but the last over 255, or a last part too large for the
// bytes it fills.
func parseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1] // one trailing dot is allowed
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var numbers [4]uint64
	for i, part := range parts {
		n, ok := parseIPv4Number(part)
		if !ok {
			return netip.Addr{}, false
		}
		numbers[i] = n
	}
	last := len(parts) - 1
	for _, n := range numbers[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	// The last part fills the bytes the others leave: 10.1 is 10.0.0.1.
	if numbers[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	ipv4 := numbers[last]
	for i, n := range numbers[:last] {
		ipv4 += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(ipv4 >> 24), byte(ipv4 >> 16), byte(ipv4 >> 8), byte(ipv4)}), true
}

// ipv4NumberCap stands for every number too large for an address. The
// standard's numbers are unbounded; any one from 2^32 fails the same checks,
// so parseIPv4Number saturates there instead of overflowing.
const ipv4NumberCap = 1 << 32

// parseIPv4Number reads one part: decimal, hexadecimal after "0x" or "0X",
// octal after a leading "0". "0x" alone is 0. It returns false for an empty
// part or a digit outside the radix (so "09" and "1e" are not numbers).
func parseIPv4Number(part string) (uint64, bool) {
	if part == "" {
		return 0, false
	}
	radix := uint64(10)
	switch {
	case len(part) >= 2 && (part[:2] == "0x" || part[:2] == "0X"):
		part, radix = part[2:], 16
	case len(part) >= 2 && part[0] == '0':
		part, radix = part[1:], 8
	}
	var n uint64
	for i := range len(part) {
		d, ok := digitValue(part[i])
		if !ok || d >= radix {
			return 0, false
		}
		n = min(n*radix+d, ipv4NumberCap)
	}
	return n, true
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}
