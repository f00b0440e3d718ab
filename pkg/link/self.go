package link

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// isLocalHost reports whether a normalised host means the visitor's own
// machine: a loopback or unspecified address (browsers on Linux connect to
// 0.0.0.0 as to 127.0.0.1), "localhost" and its subdomains (RFC 6761, which
// browsers resolve to loopback themselves), and the loopback names of
// common Linux /etc/hosts files. A short link to such a host leads each
// visitor to a service on their own machine, or back to this one.
func isLocalHost(host string) bool {
	switch host {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback":
		return true
	}
	if strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// selfHosts are the hosts and ports that reach this service. A target on
// one of them is a short link, or a page of the service, and would chain
// redirects.
type selfHosts struct {
	// names are refused on every port: BaseURL's host, which serves this
	// service alone, and whose other scheme's port usually redirects to it.
	names map[string]bool
	// addrs are "host:port" pairs of the listen address.
	addrs map[string]bool
	// localPorts are ports at which every local host (isLocalHost) reaches
	// the service: it listens on loopback or on every address. Another port
	// of the same machine is another service, which an operator may
	// allow-list for local development.
	localPorts map[string]bool
}

// newSelfHosts returns the self hosts of a service at the normalised base
// URL that also listens on each of listen (host:port). It returns an error
// wrapping ErrInvalidURL for a listen address that is not host:port.
func newSelfHosts(base *url.URL, listen []string) (selfHosts, error) {
	s := selfHosts{names: map[string]bool{}, addrs: map[string]bool{}, localPorts: map[string]bool{}}
	if isLocalHost(base.Hostname()) {
		s.localPorts[effectivePort(base)] = true
	} else {
		s.names[base.Hostname()] = true
	}
	for _, l := range listen {
		host, port, err := net.SplitHostPort(l)
		if err != nil {
			return s, fmt.Errorf("%w: listen address %q is not host:port", ErrInvalidURL, l)
		}
		if host, err = NormalizeHost(host); err != nil {
			return s, fmt.Errorf("listen address %q: %w", l, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return s, fmt.Errorf("%w: listen address %q has no valid port", ErrInvalidURL, l)
		}
		if isLocalHost(host) {
			s.localPorts[port] = true
		} else {
			s.addrs[net.JoinHostPort(host, port)] = true
		}
	}
	return s, nil
}

// has reports whether the normalised host at port reaches this service.
func (s selfHosts) has(host, port string) bool {
	return s.names[host] || s.addrs[net.JoinHostPort(host, port)] || (s.localPorts[port] && isLocalHost(host))
}

// effectivePort returns the port of a normalised URL, the scheme's default
// one if it has none.
func effectivePort(u *url.URL) string {
	switch {
	case u.Port() != "":
		return u.Port()
	case u.Scheme == "https":
		return "443"
	}
	return "80"
}
