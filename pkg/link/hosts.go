package link

import (
	"fmt"
	"net/netip"
	"strings"
)

// HostList is a set of host patterns: exact names ("news.example.org") and
// wildcards ("*.example.org", which matches any subdomain but not the bare
// domain). The zero value matches nothing.
type HostList struct {
	exact    map[string]bool
	suffixes []string // ".example.org" for "*.example.org"
}

// ParseHostList parses a comma-separated list of host patterns. Entries are
// normalised like target hosts, so "NEWS.Example.org." and IDNs match as a
// browser would, and an IP address ("10.0.0.1", "::1" or "[::1]") matches
// every spelling of it (0x0a000001, 10.1, [::ffff:10.0.0.1]...). It returns
// an error wrapping ErrInvalidURL for a malformed entry, or a wildcard of an
// address ("*.10.0.0.1", which no host could match).
func ParseHostList(list string) (HostList, error) {
	hl := HostList{exact: map[string]bool{}}
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		wildcard := strings.HasPrefix(entry, "*.")
		host, err := NormalizeHost(strings.TrimPrefix(entry, "*."))
		if err != nil || strings.ContainsAny(host, "*/@") || (wildcard && isIP(host)) {
			return HostList{}, fmt.Errorf("%w: allowed host %q is not a host name or *.domain", ErrInvalidURL, entry)
		}
		if wildcard {
			hl.suffixes = append(hl.suffixes, "."+host)
		} else {
			hl.exact[host] = true
		}
	}
	return hl, nil
}

// Allows reports whether host, already normalised by NormalizeHost, is on the list.
func (hl HostList) Allows(host string) bool {
	if hl.exact[host] {
		return true
	}
	for _, s := range hl.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// isIP reports whether a normalised host is an IP address rather than a name.
func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// Empty reports whether the list has no entries.
func (hl HostList) Empty() bool { return len(hl.exact) == 0 && len(hl.suffixes) == 0 }
