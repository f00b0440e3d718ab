package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
)

const sessionCookie = "darkshare_session"

// isAdmin reports whether the request carries the admin token as a bearer
// token or a live login session. A bearer token that is present but wrong is
// an error wrapping auth.ErrUnauthorized, not a silent downgrade to anonymous.
func (s *server) isAdmin(c *fiber.Ctx) (bool, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !s.Auth.IsAdminToken(strings.TrimSpace(token)) {
			return false, fmt.Errorf("%w: the bearer token is not the admin token", auth.ErrUnauthorized)
		}
		return true, nil
	}
	return s.Auth.IsSession(c.UserContext(), c.Cookies(sessionCookie))
}

func (s *server) loginForm() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return s.page(c, fiber.StatusOK, "login.html", loginPage{Next: localPath(c.Query("next"))})
	}
}

type loginPage struct {
	Admin       bool
	Next, Error string
}

func (s *server) login() fiber.Handler {
	return func(c *fiber.Ctx) error {
		next := localPath(c.FormValue("next"))
		id, expires, err := s.Auth.Login(c.UserContext(), c.FormValue("token"))
		if err != nil {
			if isUnauthorized(err) {
				return s.page(c, fiber.StatusUnauthorized, "login.html", loginPage{Next: next, Error: "That is not the admin token."})
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
		// cross-site.
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// localPath returns p if it is a path on this site, else "/". It keeps the
// login form from redirecting to another host ("//evil", "/\evil").
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	return p
}
