package server

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

// linksPageData is what links.html shows.
type linksPageData struct {
	pageBase
	Search   string
	Channel  link.Channel
	Channels []link.Channel
	Sort     string // "", clicks or created
	// SortURLs are this search's addresses in each order, by Sort value.
	SortURLs map[string]string
	// Truncated says a sorted view stopped at sortedLimit links.
	Truncated bool
	Rows      []linkRow
	// Back is this page's own URL, which the disable forms return to.
	Back string
	// NextURL and FirstURL are "" when there is no such page to go to.
	NextURL, FirstURL string
	Filtered          bool // a search or channel narrows the list
}

type linkRow struct {
	link.Link
	ShortURL string
	// Scheme and Rest are ShortURL cut after "://": the page shows the
	// rest, which is what a reader tells short links apart by.
	Scheme, Rest string
	Clicks       uint64 // in the last clickDays days
}

func (s *server) linkRow(l link.Link) linkRow {
	short := s.shortURL(l.Code)
	scheme, rest, ok := strings.Cut(short, "://")
	if !ok {
		scheme, rest = "", short
	} else {
		scheme += "://"
	}
	return linkRow{Link: l, ShortURL: short, Scheme: scheme, Rest: rest}
}

// clickDays is the period of the links page's clicks column, which one
// scan of the counts fills for every row.
const clickDays = 30

// sortedLimit bounds the links a sorted view reads and shows: sorting
// needs every matching link, so a search narrows a larger list.
const sortedLimit = link.MaxListLimit

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
		order := c.Query("sort")
		var page link.ListPage
		truncated := false
		switch order {
		case "":
			page, err = s.Links.List(c.UserContext(), q)
		case "clicks", "created":
			page.Links, truncated, err = s.matchingLinks(c, q)
		default:
			return errBadRequestf("sort must be clicks or created")
		}
		if err != nil {
			return err
		}
		clicks, err := s.recentClicks(c)
		if err != nil {
			return err
		}
		d := s.linksPageData(b, q, page, c.OriginalURL())
		d.Sort, d.Truncated, d.SortURLs = order, truncated, sortURLs(q)
		for i := range d.Rows {
			d.Rows[i].Clicks = clicks[d.Rows[i].Code]
		}
		sortRows(d.Rows, order)
		return s.page(c, fiber.StatusOK, "links.html", d)
	}
}

// matchingLinks returns the first sortedLimit links q's search and channel
// select; truncated says there were more (a store sets Next only then).
func (s *server) matchingLinks(c *fiber.Ctx, q link.ListQuery) (links []link.Link, truncated bool, err error) {
	q.After, q.Limit = "", sortedLimit
	page, err := s.Links.List(c.UserContext(), q)
	if err != nil {
		return nil, false, err
	}
	return page.Links, page.Next != "", nil
}

// recentClicks returns the clicks of every link with any in the last
// clickDays days, by code.
func (s *server) recentClicks(c *fiber.Ctx) (map[string]uint64, error) {
	to := today(c)
	clicks := map[string]uint64{}
	err := s.Stats.Scan(c.UserContext(), stats.Period{From: to - clickDays + 1, To: to}, func(kc stats.KeyCounts) error {
		if n := kc.Counts[stats.Clicks]; n > 0 {
			clicks[kc.Key] += n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("clicks of the links page: %w", err)
	}
	return clicks, nil
}

// sortRows orders rows by order: most clicks first, or newest first; ties
// keep the list's order.
func sortRows(rows []linkRow, order string) {
	switch order {
	case "clicks":
		slices.SortStableFunc(rows, func(a, b linkRow) int { return cmp.Compare(b.Clicks, a.Clicks) })
	case "created":
		slices.SortStableFunc(rows, func(a, b linkRow) int { return b.CreatedAt.Compare(a.CreatedAt) })
	}
}

// sortURLs are the addresses of q's first page in each order.
func sortURLs(q link.ListQuery) map[string]string {
	q.After = ""
	out := map[string]string{}
	for _, order := range []string{"", "clicks", "created"} {
		u := linksURL(q)
		if order != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "sort=" + order
		}
		out[order] = u
	}
	return out
}

func (s *server) linksPageData(b pageBase, q link.ListQuery, page link.ListPage, self string) linksPageData {
	d := linksPageData{
		pageBase: b, Search: q.Search, Channel: q.Channel, Channels: link.Channels,
		Rows: make([]linkRow, len(page.Links)), Back: self,
		Filtered: q.Search != "" || q.Channel != "",
	}
	for i, l := range page.Links {
		d.Rows[i] = s.linkRow(l)
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
		if ok, err := s.adminForm(c, back); !ok {
			return err
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

// adminForm reports whether a form post speaks for the admin (formAdmin);
// if not, it has sent the browser to log in and come back to next.
func (s *server) adminForm(c *fiber.Ctx, next string) (bool, error) {
	admin, err := s.formAdmin(c)
	if err != nil || admin {
		return admin, err
	}
	return false, c.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
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

// linksPageCreate is the links page's form that mints a URL's links for the
// channels ticked, then shows them. csrfProtect in front has checked the
// form's token.
func (s *server) linksPageCreate() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if ok, err := s.adminForm(c, "/links"); !ok {
			return err
		}
		var channels []string
		for _, ch := range c.Request().PostArgs().PeekMulti("channel") {
			channels = append(channels, string(ch))
		}
		if len(channels) == 0 {
			return errBadRequestf("tick at least one channel")
		}
		target, _, err := s.Links.Mint(c.UserContext(), link.MintRequest{URL: c.FormValue("url"), Channels: channels, Trusted: true})
		if err != nil {
			return err
		}
		return c.Redirect(linksURL(link.ListQuery{Search: target}), fiber.StatusSeeOther)
	}
}

// bulkDisablePage is the confirmation of a bulk disable.
type bulkDisablePage struct {
	pageBase
	Search  string
	Channel link.Channel
	Count   int
	Sample  []linkRow // the first few
	Changed bool      // the search's results changed since the last confirmation
	Back    string
}

// bulkSample is how many of the links a confirmation lists.
const bulkSample = 10

// linksPageDisableAll disables every link a search selects, in two steps:
// the first post shows how many and asks; the second, which carries that
// count, disables them if the search still selects as many, and asks again
// otherwise. A search or a channel is required: the button never disables
// every link at once. It reads at most sortedLimit links.
func (s *server) linksPageDisableAll() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if ok, err := s.adminForm(c, "/links"); !ok {
			return err
		}
		q := link.ListQuery{Search: c.FormValue("q")}
		if v := c.FormValue("channel"); v != "" {
			var err error
			if q.Channel, err = link.ParseChannel(v); err != nil {
				return err
			}
		}
		if strings.TrimSpace(q.Search) == "" && q.Channel == "" {
			return errBadRequestf("search for the links to disable first: disabling every link at once is not offered")
		}
		links, truncated, err := s.matchingLinks(c, q)
		if err != nil {
			return err
		}
		if truncated {
			return errBadRequestf("the search selects more than %d links; narrow it", sortedLimit)
		}
		var active []link.Link
		for _, l := range links {
			if !l.Disabled {
				active = append(active, l)
			}
		}
		confirmed := c.FormValue("confirm")
		if confirmed != strconv.Itoa(len(active)) || len(active) == 0 {
			page := bulkDisablePage{
				pageBase: pageBase{Admin: true, CSRF: s.Auth.FormToken(c.Cookies(sessionCookie))},
				Search:   q.Search, Channel: q.Channel, Count: len(active), Changed: confirmed != "",
				Back: linksURL(link.ListQuery{Search: q.Search, Channel: q.Channel}),
			}
			for _, l := range active[:min(bulkSample, len(active))] {
				page.Sample = append(page.Sample, s.linkRow(l))
			}
			return s.page(c, fiber.StatusOK, "disable.html", page)
		}
		for _, l := range active {
			if _, err := s.Links.SetDisabled(c.UserContext(), l.Code, true); err != nil {
				return err
			}
		}
		return c.Redirect(linksURL(link.ListQuery{Search: q.Search, Channel: q.Channel}), fiber.StatusSeeOther)
	}
}
