package link

import (
	"fmt"
)

// Page returns the normal form of the address of a page on an allowed site,
// as the landing beacon reports it: Normalize's, which drops the landing
// marker (MarkerParam) with the other tracking parameters, so that a view
// through a short link counts for the same page as any other.
//
// It returns an error wrapping ErrInvalidURL for an address Normalize
// refuses, ErrHostBlocked for a host on the blocklist, and
// ErrHostNotAllowed for one not on the allow-list: anyone may report a
// view, so views are kept for allowed sites only, whoever the caller is.
func (s *Service) Page(raw string) (string, error) {
	t, err := s.normalize(raw)
	if err != nil {
		return "", err
	}
	switch {
	case s.block.Allows(t.hostname):
		return "", fmt.Errorf("%w: %s is on this service's blocklist", ErrHostBlocked, t.hostname)
	case !s.allow.Allows(t.hostname):
		return "", fmt.Errorf("%w: %s is not on this service's allow-list; ask its admin", ErrHostNotAllowed, t.hostname)
	}
	return t.url, nil
}
