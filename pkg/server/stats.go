package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/auth"
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
)

// errNoStats is the one answer to an unknown code and to a wrong key, so the
// stats endpoints cannot be used to find out which codes exist.
var errNoStats = fmt.Errorf("%w: no link has this code and key", link.ErrNotFound)

var errStatsCredentials = fmt.Errorf("%w: pass the link's stats key as ?key=, or the admin token as a bearer token", auth.ErrUnauthorized)

type linkStats struct {
	Code      string       `json:"code"`
	URL       string       `json:"url"`
	Channel   link.Channel `json:"channel"`
	CreatedAt time.Time    `json:"created_at"`
	ShortURL  string       `json:"short_url"`
	QRURL     string       `json:"qr_url"`
	stats.Breakdown
	Days []dayStats `json:"days"`
}

type dayStats struct {
	Date string `json:"date"`
	stats.Breakdown
}

func newDayStats(d stats.DayCounts) dayStats {
	return dayStats{Date: d.Day.String(), Breakdown: stats.BreakdownOf(d.Counts)}
}

func (s *server) linkStatsJSON() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.principal(c)
		if err != nil {
			return err
		}
		reader := p.Can(auth.ScopeStatsRead)
		key := c.Query("key")
		if !reader && key == "" {
			return errStatsCredentials
		}
		l, sum, err := s.statsFor(c, c.Params("code"), key, reader)
		if err != nil {
			return err
		}
		return c.JSON(s.linkStats(l, sum))
	}
}

// statsFor returns a link and its counts over its lifetime, as linkFor
// allows.
func (s *server) statsFor(c *fiber.Ctx, code, key string, reader bool) (link.Link, stats.Summary, error) {
	l, err := s.linkFor(c, code, key, reader)
	if err != nil {
		return link.Link{}, stats.Summary{}, err
	}
	sum, err := s.Stats.Summary(c.UserContext(), l.Code, lifetime(l, requestTime(c)))
	return l, sum, err
}

// linkPeriod returns the link of the request's :code that key (or an
// admin reader) may see, the period the query asks for, and the link's
// counts over it: what a link's stats page and its export both show.
func (s *server) linkPeriod(c *fiber.Ctx, key string, reader bool) (link.Link, stats.Period, stats.Summary, error) {
	l, err := s.linkFor(c, c.Params("code"), key, reader)
	if err != nil {
		return link.Link{}, stats.Period{}, stats.Summary{}, err
	}
	p, err := period(c)
	if err != nil {
		return link.Link{}, stats.Period{}, stats.Summary{}, err
	}
	sum, err := s.Stats.Summary(c.UserContext(), l.Code, p)
	return l, p, sum, err
}

// linkFor returns a link if the caller may read all stats (reader) or
// holds the link's stats key; otherwise errNoStats, whether or not the
// code exists. A key is a credential: a wrong one, or one for a code that
// does not exist, counts against the guessing limit.
func (s *server) linkFor(c *fiber.Ctx, code, key string, reader bool) (link.Link, error) {
	var l link.Link
	find := func() error {
		var err error
		l, err = s.Links.Get(c.UserContext(), code)
		if errors.Is(err, link.ErrNotFound) {
			return errNoStats
		}
		if err == nil && !reader && subtle.ConstantTimeCompare([]byte(key), []byte(l.StatsKey)) != 1 {
			return errNoStats
		}
		return err
	}
	var err error
	if reader {
		err = find()
	} else {
		err = s.credential(c, find)
	}
	if err != nil {
		return link.Link{}, err
	}
	return l, nil
}

// lifetime is every day a link can have counts on, from its creation to now,
// with a day's slack at each end for clocks that disagree.
func lifetime(l link.Link, now time.Time) stats.Period {
	return stats.Period{From: stats.DayOf(l.CreatedAt) - 1, To: stats.DayOf(now) + 1}
}

func (s *server) linkStats(l link.Link, sum stats.Summary) linkStats {
	out := linkStats{
		Code: l.Code, URL: l.URL, Channel: l.Channel, CreatedAt: l.CreatedAt,
		ShortURL: s.shortURL(l.Code), QRURL: s.qrURL(l.Code),
		Breakdown: stats.BreakdownOf(sum.Totals), Days: []dayStats{},
	}
	for _, d := range sum.Days {
		out.Days = append(out.Days, newDayStats(d))
	}
	return out
}

// pageStats is the funnel of a page: totals over its links, and per
// channel; and the page's views, as the landing beacon reported them.
type pageStats struct {
	URL string `json:"url"`
	stats.Breakdown
	Channels map[link.Channel]channelStats `json:"channels"`
	Views    viewStats                     `json:"views"`
	// Amplification is, per channel readers arrived by, their reshares
	// per click and the channels they reshared by.
	Amplification map[link.Channel]stats.Amplification `json:"amplification"`
}

// viewStats are a page's views by landing class, with the rules that
// classed them, so that a reader of the numbers knows what they mean.
type viewStats struct {
	stats.ViewBreakdown
	Method string `json:"method"`
}

type channelStats struct {
	Code     string `json:"code"`
	ShortURL string `json:"short_url"`
	stats.Breakdown
}

// pageStatsJSON answers the admin with the counts of every channel of a page.
func (s *server) pageStatsJSON() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if c.Query("url") == "" {
			return fmt.Errorf("%w: pass the page as ?url=", errBadRequest)
		}
		target, links, err := s.Links.ByURL(c.UserContext(), c.Query("url"))
		if err != nil {
			return err
		}
		if len(links) == 0 {
			return fmt.Errorf("%w: no links have been minted for %s", link.ErrNotFound, target)
		}
		out := pageStats{URL: target, Breakdown: stats.BreakdownOf(nil), Channels: make(map[link.Channel]channelStats, len(links)),
			Amplification: make(map[link.Channel]stats.Amplification, len(links))}
		for _, l := range links {
			sum, err := s.Stats.Summary(c.UserContext(), l.Code, lifetime(l, requestTime(c)))
			if err != nil {
				return err
			}
			ch := channelStats{Code: l.Code, ShortURL: s.shortURL(l.Code), Breakdown: stats.BreakdownOf(sum.Totals)}
			out.Add(ch.Breakdown)
			out.Channels[l.Channel] = ch
			out.Amplification[l.Channel] = stats.AmplificationOf(ch.Breakdown)
		}
		if out.Views, err = s.pageViews(c, target, links); err != nil {
			return err
		}
		return c.JSON(out)
	}
}

// pageViews reads the views of a page over its links' lifetime: from the
// day before the first was minted to the day after today. links is not empty.
func (s *server) pageViews(c *fiber.Ctx, target string, links []link.Link) (viewStats, error) {
	now := requestTime(c)
	period := lifetime(links[0], now)
	for _, l := range links[1:] {
		period.From = min(period.From, lifetime(l, now).From)
	}
	v, err := s.viewsOf(c, target, period)
	return viewStats{ViewBreakdown: v, Method: track.LandingMethod}, err
}

// viewsOf reads the landing beacon's views of the page of target (a
// link's URL) in period: they are counted under its page address.
func (s *server) viewsOf(c *fiber.Ctx, target string, period stats.Period) (stats.ViewBreakdown, error) {
	page := s.Links.PageOf(target)
	sum, err := s.Stats.Summary(c.UserContext(), stats.PageKey(page), period)
	if err != nil {
		return stats.ViewBreakdown{}, fmt.Errorf("views of %s: %w", page, err)
	}
	return stats.ViewBreakdownOf(sum.Totals), nil
}

// linkStatsPage is the HTML view of linkStatsJSON, for a period. Without
// credentials it sends the visitor to the login form, which brings them
// back.
func (s *server) linkStatsPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.layout(c)
		if err != nil {
			return err
		}
		key := c.Query("key")
		if !b.Admin && key == "" {
			return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		l, p, sum, err := s.linkPeriod(c, key, b.Admin)
		if err != nil {
			return err
		}
		prev, err := s.Stats.Summary(c.UserContext(), l.Code, previous(p))
		if err != nil {
			return err
		}
		choice := choiceOf(c, p)
		if !b.Admin {
			choice.Key = key
		}
		return s.page(c, fiber.StatusOK, "stats.html", s.statsPage(b, l, choice, p, sum, prev))
	}
}

type statsPage struct {
	pageBase
	Link            link.Link
	ShortURL, QRURL string
	Choice          periodChoice
	stats.Breakdown
	Changes    funnelChanges
	Chart      dayChart
	PastedIn   []shareBar // previews by app
	Referrers  []shareBar
	Devices    []shareBar
	InApp      []shareBar
	ResharedBy []shareBar // reshares by the new share's channel
	Days       []dayStats // newest first
	// Export is the query of the page's exports: the period, and the key
	// of a visitor who came with one.
	Export template.URL
}

func (s *server) statsPage(b0 pageBase, l link.Link, choice periodChoice, p stats.Period, sum, prev stats.Summary) statsPage {
	b := stats.BreakdownOf(sum.Totals)
	out := statsPage{
		// The page's own origin, not BaseURL: the CSP allows images from 'self'
		// only, and an admin may reach the page under another name.
		pageBase: b0, Link: l, ShortURL: s.shortURL(l.Code), QRURL: "/" + l.Code + "/qr.png",
		Choice: choice, Breakdown: b,
		Changes:  changesOf(b, stats.BreakdownOf(prev.Totals), previous(p)),
		PastedIn: shareBars(b.PreviewsByApp), Referrers: referrerBars(b.Referrers),
		Devices: shareBars(b.Devices), InApp: shareBars(b.InApp), ResharedBy: shareBars(b.ResharesByChannel),
		Chart:  newDayChart(linkDays(l, sum.Days, p), dailyTotals(linkDays(l, prev.Days, previous(p)))),
		Export: choice.Query,
	}
	if choice.Key != "" {
		out.Export += template.URL("&key=" + url.QueryEscape(choice.Key))
	}
	for _, d := range sum.Days {
		out.Days = append(out.Days, newDayStats(d))
	}
	slices.Reverse(out.Days)
	return out
}
