package server

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
)

// linksPageData is what links.html shows.
type linksPageData struct {
	pageBase
	Search   string
	Channel  link.Channel
	Channels []link.Channel
	Rows     []linkRow
	// Back is this page's own URL, which the disable forms return to.
	Back string
	// NextURL and FirstURL are "" when there is no such page to go to.
	NextURL, FirstURL string
	Filtered          bool // a search or channel narrows the list
}

type linkRow struct {
	link.Link
	ShortURL string
}

// linksPage lists links for the admin. Without an admin's credentials it
// sends the visitor to the login form, which brings them back.
func (s *server) linksPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, ok, err := s.adminPage(c)
		if !ok {
			return err
		}
		q, err := listQuery(c)
		if err != nil {
			return err
		}
		page, err := s.Links.List(c.UserContext(), q)
		if err != nil {
			return err
		}
		return s.page(c, fiber.StatusOK, "links.html", s.linksPageData(b, q, page, c.OriginalURL()))
	}
}

func (s *server) linksPageData(b pageBase, q link.ListQuery, page link.ListPage, self string) linksPageData {
	d := linksPageData{
		pageBase: b, Search: q.Search, Channel: q.Channel, Channels: link.Channels,
		Rows: make([]linkRow, len(page.Links)), Back: self,
		Filtered: q.Search != "" || q.Channel != "",
	}
	for i, l := range page.Links {
		d.Rows[i] = linkRow{Link: l, ShortURL: s.shortURL(l.Code)}
	}
	if page.Next != "" {
		next := q
		next.After = page.Next
		d.NextURL = linksURL(next)
	}
	if q.After != "" {
		first := q
		first.After = ""
		d.FirstURL = linksURL(first)
	}
	return d
}

// linksURL is the links page's address for q, with only the parameters set.
func linksURL(q link.ListQuery) string {
	v := url.Values{}
	for name, value := range map[string]string{"q": q.Search, "channel": string(q.Channel), "after": q.After} {
		if value != "" {
			v.Set(name, value)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(v) == 0 {
		return "/links"
	}
	return "/links?" + v.Encode()
}

// listQuery reads q, channel, after and limit from the query string. The
// channel is parsed here so the page shows it as the list uses it.
func listQuery(c *fiber.Ctx) (link.ListQuery, error) {
	q := link.ListQuery{Search: c.Query("q"), After: c.Query("after")}
	if v := c.Query("channel"); v != "" {
		ch, err := link.ParseChannel(v)
		if err != nil {
			return link.ListQuery{}, err
		}
		q.Channel = ch
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return link.ListQuery{}, errBadRequestf("limit %.20q is not a number; pass 1 to %d links per page", v, link.MaxListLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// linksPageSetDisabled is the links page's disable / enable form. The
// csrfProtect middleware in front has checked the form's token, which is
// what lets a session cookie change anything here.
func (s *server) linksPageSetDisabled() fiber.Handler {
	return func(c *fiber.Ctx) error {
		back := c.FormValue("back")
		if localPath(back) != back {
			back = "/links"
		}
		admin, err := s.formAdmin(c)
		if err != nil {
			return err
		}
		if !admin {
			return c.Redirect("/login?next="+url.QueryEscape(back), fiber.StatusSeeOther)
		}
		disabled, err := formBool(c.FormValue("disabled"))
		if err != nil {
			return err
		}
		if _, err := s.Links.SetDisabled(c.UserContext(), c.Params("code"), disabled); err != nil {
			return err
		}
		return c.Redirect(back, fiber.StatusSeeOther)
	}
}

// formAdmin reports whether a form post speaks for the admin: by a bearer
// token with the admin scope, or a login session. principal ignores
// sessions on posts, since a cross-site post carries the cookie too; only
// call this behind csrfProtect, whose token tells the two apart.
func (s *server) formAdmin(c *fiber.Ctx) (bool, error) {
	p, err := s.principal(c)
	if err != nil {
		return false, err
	}
	if p.Can(auth.ScopeAdmin) {
		return true, nil
	}
	ok, err := s.Auth.IsSession(c.UserContext(), c.Cookies(sessionCookie))
	if err != nil {
		return false, fmt.Errorf("check session of a form post: %w", err)
	}
	return ok, nil
}

func formBool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errBadRequestf(`field "disabled" must be true or false, not %.20q`, v)
}

// linkList is the JSON variant of the links page.
type linkList struct {
	Links []linkInfo `json:"links"`
	Next  string     `json:"next"` // "" on the last page
}

// listLinks answers GET /api/v1/links with the links page as JSON.
func (s *server) listLinks() fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := listQuery(c)
		if err != nil {
			return err
		}
		page, err := s.Links.List(c.UserContext(), q)
		if err != nil {
			return err
		}
		out := linkList{Links: make([]linkInfo, len(page.Links)), Next: page.Next}
		for i, l := range page.Links {
			out.Links[i] = s.linkInfo(l)
		}
		return c.JSON(out)
	}
}
