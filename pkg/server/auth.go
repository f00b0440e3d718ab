package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"

	"github.com/darkshare/darkshare/pkg/auth"
)

const (
	sessionCookie  = "darkshare_session"
	csrfCookie     = "darkshare_csrf"
	csrfField      = "csrf"
	csrfLocal      = "csrf"
	principalLocal = "principal"
)

// errForm marks a form post whose CSRF token is missing, stale or forged.
var errForm = errors.New("form expired")

// principal returns who the request speaks for: the bearer token's owner
// (the admin or an API key), else, for reads, the admin of a login session,
// else anonymous. A bearer token that is present but wrong is an error wrapping
// auth.ErrUnauthorized, not a silent downgrade to anonymous.
func (s *server) principal(c *fiber.Ctx) (auth.Principal, error) {
	// Middleware and handler may both ask: look the token up once.
	if p, ok := c.Locals(principalLocal).(auth.Principal); ok {
		return p, nil
	}
	p, err := s.findPrincipal(c)
	if err == nil {
		c.Locals(principalLocal, p)
	}
	return p, err
}

func (s *server) findPrincipal(c *fiber.Ctx) (auth.Principal, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return auth.Anonymous, fmt.Errorf("%w: use Authorization: Bearer <token>", auth.ErrUnauthorized)
		}
		return s.Auth.Bearer(c.UserContext(), strings.TrimSpace(token))
	}
	// A session cookie reaches us from any page of the same site, so it
	// only ever reads: changes need a bearer token (or a form's CSRF token).
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
	token, _ := c.Locals(csrfLocal).(string)
	return pageBase{Admin: p.Can(auth.ScopeAdmin), CSRF: token}, nil
}

// csrfProtect guards the forms of HTML pages with a double-submit token:
// GETs get a token (cookie and form field), POSTs must send both back.
func (s *server) csrfProtect() fiber.Handler {
	return csrf.New(csrf.Config{
		KeyLookup:      "form:" + csrfField,
		CookieName:     csrfCookie,
		CookieSameSite: "Strict",
		CookieHTTPOnly: true,
		CookieSecure:   s.https,
		Expiration:     2 * time.Hour,
		ContextKey:     csrfLocal,
		ErrorHandler: func(*fiber.Ctx, error) error {
			return fmt.Errorf("%w: this form has expired or did not come from this site; reload the page and try again", errForm)
		},
	})
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
		next := localPath(c.FormValue("next"))
		id, expires, err := s.Auth.Login(c.UserContext(), c.FormValue("token"))
		if err != nil {
			if errors.Is(err, auth.ErrUnauthorized) {
				token, _ := c.Locals(csrfLocal).(string)
				return s.page(c, fiber.StatusUnauthorized, "login.html", loginPage{pageBase: pageBase{CSRF: token}, Next: next, Error: "That is not the admin token."})
			}
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
