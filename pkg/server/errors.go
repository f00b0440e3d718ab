package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/pkg/stats"
)

var (
	// errBadRequest marks malformed requests found by the HTTP layer itself
	// (JSON syntax, wrong types, bad query parameters).
	errBadRequest = errors.New("bad request")
	// errForbidden means the caller is known but lacks the scope.
	errForbidden = errors.New("forbidden")
)

// errorStatuses maps domain errors to HTTP: the one place that does.
var errorStatuses = []struct {
	err    error
	status int
	code   string
}{
	{link.ErrInvalidURL, http.StatusBadRequest, "invalid_url"},
	{link.ErrUnknownChannel, http.StatusBadRequest, "unknown_channel"},
	{link.ErrBadQuery, http.StatusBadRequest, "bad_query"},
	{link.ErrInvalidCampaign, http.StatusBadRequest, "invalid_campaign"},
	{errBadRequest, http.StatusBadRequest, "bad_request"},
	{report.ErrBadPeriod, http.StatusBadRequest, "bad_period"},
	{stats.ErrPeriod, http.StatusBadRequest, "bad_period"},
	{auth.ErrInvalidKey, http.StatusBadRequest, "invalid_key"},
	{auth.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{errForbidden, http.StatusForbidden, "forbidden"},
	{errForm, http.StatusForbidden, "form_expired"},
	{errTooManyGuesses, http.StatusTooManyRequests, "rate_limited"},
	{link.ErrHostNotAllowed, http.StatusForbidden, "host_not_allowed"},
	{link.ErrHostBlocked, http.StatusForbidden, "host_blocked"},
	{link.ErrNotFound, http.StatusNotFound, "not_found"},
	{auth.ErrNoKey, http.StatusNotFound, "not_found"},
	{link.ErrDisabled, http.StatusGone, "disabled"},
	// Not a failure of this server, nor of the request's form: the state
	// it runs in (PostgreSQL) has no backup for it to stream.
	{ErrBackupElsewhere, http.StatusConflict, "backup_elsewhere"},
	{errConnsPerIP, http.StatusTooManyRequests, "too_many_connections"},
	{errConnsFull, http.StatusServiceUnavailable, "server_full"},
}

// fiberMessages replace Fiber's terse texts where the client can act on more.
var fiberMessages = map[int]string{
	http.StatusRequestEntityTooLarge:       "the request body is larger than 16 KiB",
	http.StatusRequestHeaderFieldsTooLarge: "the request line and headers are larger than 16 KiB",
	http.StatusTooManyRequests:             "too many requests from this address; try again after Retry-After seconds",
}

// fiberCodes names the statuses Fiber itself answers with.
var fiberCodes = map[int]string{
	http.StatusBadRequest:                  "bad_request",
	http.StatusNotFound:                    "not_found",
	http.StatusMethodNotAllowed:            "method_not_allowed",
	http.StatusRequestEntityTooLarge:       "body_too_large",
	http.StatusRequestHeaderFieldsTooLarge: "headers_too_large",
	http.StatusTooManyRequests:             "rate_limited",
	http.StatusRequestTimeout:              "timeout",
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify returns the status, code and client-safe message for err.
func classify(err error) (int, string, string) {
	for _, e := range errorStatuses {
		if errors.Is(err, e.err) {
			return e.status, e.code, publicMessage(err, e.err)
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code < 500 {
		code, ok := fiberCodes[fe.Code]
		if !ok {
			code = strings.ToLower(strings.ReplaceAll(http.StatusText(fe.Code), " ", "_"))
		}
		message, ok := fiberMessages[fe.Code]
		if !ok {
			message = fe.Message
		}
		return fe.Code, code, message
	}
	return http.StatusInternalServerError, "internal", "internal error; the details are in the server log"
}

// publicMessage returns what a client may read of err, which wraps sentinel:
// the text of the error that wraps sentinel directly as "%w: what the caller
// did wrong", the form written for the client where its input was judged; or
// else the sentinel's own text. Context that callers add around it ("load
// link x: %w") is for the log and stays out.
func publicMessage(err, sentinel error) string {
	direct := directWrapper(err, sentinel)
	if direct != nil && strings.HasPrefix(direct.Error(), sentinel.Error()+": ") {
		return direct.Error()
	}
	return sentinel.Error()
}

// directWrapper returns the error in err's tree whose Unwrap gives sentinel,
// or nil when err is sentinel itself or sentinel is not in its tree.
func directWrapper(err, sentinel error) error {
	var children []error
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		children = []error{x.Unwrap()}
	case interface{ Unwrap() []error }:
		children = x.Unwrap()
	}
	for _, child := range children {
		if child == sentinel {
			return err
		}
	}
	for _, child := range children {
		if direct := directWrapper(child, sentinel); direct != nil {
			return direct
		}
	}
	return nil
}

// handleError answers every error returned by a handler: JSON under /api/,
// a page elsewhere. A 5xx is logged in full and answered generically.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	status, code, message := classify(err)
	switch {
	case status >= 500:
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	case err.Error() != message:
		// The client got less than the whole chain; the rest is for the log.
		s.log.Info("request refused", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	// Headers too large to read leave no path to go by: answer JSON, which
	// API clients parse and browsers still show.
	if wantsJSON(c) || status == http.StatusRequestHeaderFieldsTooLarge {
		return c.Status(status).JSON(fiber.Map{"error": apiError{Code: code, Message: message}})
	}
	title := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		title = "No such link"
		message = "This address does not lead anywhere. If someone sent it to you, it may have been mistyped or cut short."
	case http.StatusTooManyRequests:
		title = "Too many tries"
		message = "Too many wrong tokens or keys came from your address. Try again " + retryIn(c) + "."
	case http.StatusGone:
		// Says nothing of where the link led: it may have been disabled for
		// pointing somewhere harmful.
		title = "Link disabled"
		message = "This short link has been disabled by the people who run this service, and no longer leads anywhere."
	}
	return s.page(c, status, "error.html", errorPage{pageBase: s.errorLayout(c), Title: title, Message: message})
}

// errorLayout is the layout of an error page, so that an admin keeps the
// navigation. A bearer token is only taken as already checked: checking it
// here would count a wrong one twice, or once on a request that the
// guessing limit has refused.
func (s *server) errorLayout(c *fiber.Ctx) pageBase {
	if c.Get(fiber.HeaderAuthorization) != "" {
		r, ok := c.Locals(principalLocal).(principalResult)
		if !ok || r.err != nil {
			return pageBase{}
		}
		return pageBase{Admin: r.p.Can(auth.ScopeAdmin), CSRF: s.Auth.FormToken(c.Cookies(sessionCookie))}
	}
	b, err := s.layout(c)
	if err != nil {
		return pageBase{}
	}
	if !b.Admin && s.postedByAdmin(c) {
		b.Admin = true
	}
	return b
}

// postedByAdmin reports whether c is a form post of the admin: its form
// token matches a live session's cookie. Sessions only read (see
// findPrincipal), so a post's refusal would otherwise lose the navigation
// of the page it came from; the navigation is all this grants.
func (s *server) postedByAdmin(c *fiber.Ctx) bool {
	if c.Method() != fiber.MethodPost {
		return false
	}
	cookie := c.Cookies(sessionCookie)
	if !s.Auth.CheckFormToken(cookie, c.FormValue(csrfField)) {
		return false
	}
	ok, err := s.Auth.IsSession(c.UserContext(), cookie)
	return err == nil && ok
}

type errorPage struct {
	pageBase
	Title, Message string
}

// retryIn says when the answer's Retry-After ends, for a person.
func retryIn(c *fiber.Ctx) string {
	secs, err := strconv.Atoi(string(c.Response().Header.Peek(fiber.HeaderRetryAfter)))
	switch {
	case err != nil:
		return "later"
	case secs <= 90:
		return fmt.Sprintf("in %d seconds", secs)
	default:
		return fmt.Sprintf("in %d minutes", (secs+59)/60)
	}
}

func wantsJSON(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/api/") || p == "/healthz"
}

func errBadRequestf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBadRequest}, args...)...)
}
