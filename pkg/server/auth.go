package server

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
)

const (
	sessionCookie  = "darkshare_session"
	csrfField      = "csrf"
	principalLocal = "principal"
)

// errForm marks a form post whose CSRF token is missing, stale or forged.
var errForm = errors.New("form expired")

// principal returns who the request speaks for: the bearer token's owner
// (the admin or an API key), else, for reads, the admin of a login session,
// else anonymous. A bearer token that is present but wrong is an error wrapping
// auth.ErrUnauthorized, not a silent downgrade to anonymous.
func (s *server) principal(c *fiber.Ctx) (auth.Principal, error) {
	// Middleware and handler may both ask: check the token once, and count
	// a wrong one once against the guessing limit.
	if r, ok := c.Locals(principalLocal).(principalResult); ok {
		return r.p, r.err
	}
	p, err := s.findPrincipal(c)
	c.Locals(principalLocal, principalResult{p, err})
	return p, err
}

type principalResult struct {
	p   auth.Principal
	err error
}

func (s *server) findPrincipal(c *fiber.Ctx) (auth.Principal, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		p := auth.Anonymous
		err := s.credential(c, func() error {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return fmt.Errorf("%w: use Authorization: Bearer <token>", auth.ErrUnauthorized)
			}
			var err error
			p, err = s.Auth.Bearer(c.UserContext(), strings.TrimSpace(token))
			return err
		})
		return p, err
	}
	// A session cookie reaches us from any page of the same site, so it
	// only ever reads: changes need a bearer token (or a form's CSRF token).
	// Sessions are 256 random bits, beyond guessing: the guessing limit
	// leaves them alone, so an admin keeps a session open through it.
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		return auth.Anonymous, nil
	}
	ok, err := s.Auth.IsSession(c.UserContext(), c.Cookies(sessionCookie))
	if err != nil || !ok {
		return auth.Anonymous, err
	}
	return auth.Principal{Name: "admin", Scopes: auth.AllScopes}, nil
}

// require returns a handler that lets through only principals with scope.
func (s *server) require(scope auth.Scope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.principal(c)
		if err != nil {
			return err
		}
		if !p.Can(scope) {
			if p.Name == auth.Anonymous.Name {
				return fmt.Errorf("%w: this needs a bearer token with the %s scope", auth.ErrUnauthorized, scope)
			}
			return fmt.Errorf("%w: this needs the %s scope", errForbidden, scope)
		}
		return c.Next()
	}
}

// pageBase is what every page's layout needs.
type pageBase struct {
	Admin bool   // logged in: show the log-out button
	CSRF  string // token for the page's forms
}

func (s *server) layout(c *fiber.Ctx) (pageBase, error) {
	p, err := s.principal(c)
	if err != nil {
		return pageBase{}, err
	}
	return pageBase{Admin: p.Can(auth.ScopeAdmin), CSRF: s.Auth.FormToken(c.Cookies(sessionCookie))}, nil
}

// csrfProtect guards the forms of HTML pages. Their token is derived from
// the session cookie the page was shown with (auth.Service.FormToken), so
// it is checked against the cookie the post carries, with nothing stored
// per visitor; and a cookie or token that a page of another subdomain
// plants matches no admin's session. Under https the Referer must be this
// host, as a second line.
func (s *server) csrfProtect() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if (c.Protocol() == "https" && !refererIsHost(c)) || !s.Auth.CheckFormToken(c.Cookies(sessionCookie), c.FormValue(csrfField)) {
			return fmt.Errorf("%w: this form has expired or did not come from this site; reload the page and try again", errForm)
		}
		return c.Next()
	}
}

// refererIsHost reports whether the request's Referer is a page of this
// scheme and host. Pages send it to their own origin (Referrer-Policy
// same-origin).
func refererIsHost(c *fiber.Ctx) bool {
	u, err := url.Parse(strings.ToLower(c.Get(fiber.HeaderReferer)))
	return err == nil && u.Scheme == c.Protocol() && u.Host == c.Hostname()
}

func (s *server) loginForm() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.layout(c)
		if err != nil {
			return err
		}
		return s.page(c, fiber.StatusOK, "login.html", loginPage{pageBase: b, Next: localPath(c.Query("next"))})
	}
}

type loginPage struct {
	pageBase
	Next, Error string
}

func (s *server) login() fiber.Handler {
	return func(c *fiber.Ctx) error {
		next := afterLogin(c.FormValue("next"))
		var id string
		var expires time.Time
		err := s.credential(c, func() error {
			var err error
			id, expires, err = s.Auth.Login(c.UserContext(), c.FormValue("token"))
			return err
		})
		if errors.Is(err, auth.ErrUnauthorized) {
			b := pageBase{CSRF: s.Auth.FormToken(c.Cookies(sessionCookie))}
			return s.page(c, fiber.StatusUnauthorized, "login.html", loginPage{pageBase: b, Next: next, Error: "That is not the admin token."})
		}
		if err != nil {
			return err
		}
		s.setSession(c, id, expires)
		return c.Redirect(next, fiber.StatusSeeOther)
	}
}

func (s *server) logout() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.Auth.Logout(c.UserContext(), c.Cookies(sessionCookie)); err != nil {
			return err
		}
		s.setSession(c, "", time.Unix(0, 0))
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
}

func (s *server) setSession(c *fiber.Ctx, id string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		Expires:  expires,
		HTTPOnly: true,
		Secure:   s.https,
		// Lax, not Strict: an admin following a stats link from a mail must
		// arrive logged in. State changes are POSTs, which Lax does not send
		// cross-site, and the forms carry CSRF tokens besides.
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// afterLogin is where a login goes: next if it is a page of this site
// other than the home page, which an admin has no use for, else the
// dashboard.
func afterLogin(next string) string {
	if p := localPath(next); p != "/" {
		return p
	}
	return "/dashboard"
}

// localPath returns p if it is a path on this site, else "/". It keeps the
// login form from redirecting to another host ("//evil", "/\evil").
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	// Browsers drop tabs and newlines from a Location ("/\t/evil" becomes
	// "//evil") and read "\" as "/": refuse them all, with spaces.
	for i := range len(p) {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return p
}
