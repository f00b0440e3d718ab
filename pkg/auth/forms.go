package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// FormTokenTTL is how long a form shown without a session stays usable.
const FormTokenTTL = 2 * time.Hour

// Form tokens (CSRF tokens) need no server-side state. A page shown with a
// session cookie gets the MAC of that cookie's value: it is valid for as
// long as the cookie, and only with it, so a token or cookie planted by a
// page of another subdomain matches no admin's session. A page shown
// without one (the login form) gets a signed expiry time. The key is
// derived from the admin token, so a new token voids every open form.
const (
	sessionFormPrefix = "s."
	anonFormPrefix    = "a."
	anonMACLen        = 16
)

// FormToken returns the token for the forms of a page shown to a client
// whose session cookie holds session ("" for none). It returns "" before
// Bootstrap.
func (s *Service) FormToken(session string) string {
	key := s.token().formKey
	if key == nil {
		return ""
	}
	if session != "" {
		return sessionFormPrefix + base64.RawURLEncoding.EncodeToString(formMAC(key, "session", []byte(session)))
	}
	exp := binary.BigEndian.AppendUint64(nil, uint64(s.now().Add(FormTokenTTL).Unix()))
	return anonFormPrefix + base64.RawURLEncoding.EncodeToString(append(exp, formMAC(key, "anonymous", exp)[:anonMACLen]...))
}

// CheckFormToken reports whether token is a form token that FormToken made
// for session, with the current admin token, and (without a session) has
// not expired. It compares MACs in constant time.
func (s *Service) CheckFormToken(session, token string) bool {
	key := s.token().formKey
	if key == nil {
		return false
	}
	if session != "" {
		got, ok := decodeForm(token, sessionFormPrefix, sha256.Size)
		return ok && hmac.Equal(got, formMAC(key, "session", []byte(session)))
	}
	got, ok := decodeForm(token, anonFormPrefix, 8+anonMACLen)
	if !ok {
		return false
	}
	exp, mac := got[:8], got[8:]
	return hmac.Equal(mac, formMAC(key, "anonymous", exp)[:anonMACLen]) &&
		s.now().Unix() < int64(binary.BigEndian.Uint64(exp))
}

// decodeForm returns the n bytes that token holds after prefix. Only the
// one spelling FormToken makes is read: the decoder would skip line breaks.
func decodeForm(token, prefix string, n int) ([]byte, bool) {
	enc := base64.RawURLEncoding.Strict()
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) != enc.EncodedLen(n) {
		return nil, false
	}
	b, err := enc.DecodeString(rest)
	return b, err == nil && len(b) == n
}

// formMAC is HMAC-SHA256 of kind and data: kind keeps a session's token
// from ever passing as an anonymous one, or the other way round.
func formMAC(key []byte, kind string, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}
