package link

import (
	"fmt"
)

// Page returns the address of a page on an allowed site, as the landing
// beacon reports it, in the form it is counted, stored and shown under:
// Normalize's (which drops the landing marker, MarkerParam, with the other
// tracking parameters, so that a view through a short link counts for the
// same page as any other), then only what names the content (see PageOf).
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
	return t.page, nil
}

// PageOf returns the page address of a normalised target (a Link's URL):
// the key its page's views, reshares and reports go by. Only the query
// parameters of Policy.PageParams stay, and a path segment that looks like
// an email address or a random token becomes EmailPlaceholder or
// TokenPlaceholder. A link's target itself is never changed: its redirect
// must reach the exact address. So the links of two targets that differ
// only in what PageOf drops are links of one page.
func (s *Service) PageOf(target string) string {
	t, err := s.normalize(target)
	if err != nil {
		return pageAddress(target, s.pageParams)
	}
	return t.page
}
