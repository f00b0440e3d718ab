package server

import (
	"html/template"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
)

// dashboardTop is how many pages and links the dashboard lists.
const dashboardTop = 20

// adminPage returns the page base of an admin. Anyone else gets ok false
// after being sent to the login form, which brings them back.
func (s *server) adminPage(c *fiber.Ctx) (pageBase, bool, error) {
	b, err := s.layout(c)
	if err != nil || b.Admin {
		return b, err == nil, err
	}
	return b, false, c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
}

// adminPeriod is adminPage, and the period the query asks for.
func (s *server) adminPeriod(c *fiber.Ctx) (pageBase, stats.Period, bool, error) {
	b, ok, err := s.adminPage(c)
	if !ok {
		return b, stats.Period{}, false, err
	}
	p, err := period(c)
	return b, p, err == nil, err
}

// period reads the period of a report page or export from the query.
func period(c *fiber.Ctx) (stats.Period, error) {
	return report.ParsePeriod(c.Query("days"), c.Query("from"), c.Query("to"), today(c))
}

type dashboardPage struct {
	pageBase
	report.Report
	Choice   periodChoice
	Changes  funnelChanges
	Chart    dayChart
	PastedIn []shareBar
	ViewRows []viewRow
	Method   string
	// Amplification is every channel's, side by side.
	Amplification []amplificationRow
}

// periodChoice is the period form: the presets, and the chosen period.
type periodChoice struct {
	Presets  []int
	Days     int // the preset chosen, or 0 for a custom period
	From, To string
	// Query is days=… or from=…&to=…, for links to other pages. It is
	// built here from numbers and dates only, so the template may use it
	// as it is.
	Query template.URL
	URL   string // the page of a page report, kept by the form
	Key   string // the stats key a link's page was opened with, kept by the form
}

func choiceOf(c *fiber.Ctx, p stats.Period) periodChoice {
	ch := periodChoice{Presets: report.Presets, From: p.From.String(), To: p.To.String()}
	if c.Query("from") == "" && c.Query("to") == "" && p.To == today(c) {
		ch.Days = int(p.To-p.From) + 1
		ch.Query = template.URL("days=" + strconv.Itoa(ch.Days))
		return ch
	}
	ch.Query = template.URL("from=" + ch.From + "&to=" + ch.To)
	return ch
}

// dashboard is the site-wide report of a period, for an admin.
func (s *server) dashboard() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, p, ok, err := s.adminPeriod(c)
		if !ok {
			return err
		}
		r, err := report.Build(c.UserContext(), s.Stats, s.Links, p, dashboardTop)
		if err != nil {
			return err
		}
		prev, err := report.Build(c.UserContext(), s.Stats, s.Links, previous(p), 0)
		if err != nil {
			return err
		}
		page := dashboardPage{
			pageBase: b, Report: r, Choice: choiceOf(c, p),
			Changes:  changesOf(r.Totals, prev.Totals, prev.Period),
			Chart:    newDayChart(r.ClicksPerDay, dailyTotals(prev.ClicksPerDay)),
			PastedIn: shareBars(r.Totals.PreviewsByApp), ViewRows: viewRows(r.Views), Method: track.LandingMethod,
			Amplification: amplificationRows(report.Amplify(r.Channels)),
		}
		return s.page(c, fiber.StatusOK, "dashboard.html", page)
	}
}

// viewRow is one landing class of page views.
type viewRow struct {
	Class, Label string
	N            uint64
	Percent      int
}

// viewClasses are the landing classes in display order, private first.
var viewClasses = []struct{ class, label string }{
	{"short-link", "through a short link"},
	{"dark-social", "dark social: webmail, messenger web, in-app browser, or no referrer on a deep page"},
	{"social", "social networks"},
	{"search", "search engines"},
	{"referral", "other sites"},
	{"direct-home", "direct, to the home page or a section front"},
	{"internal", "from another page of the site"},
}

func viewRows(v stats.ViewBreakdown) []viewRow {
	rows := make([]viewRow, 0, len(viewClasses))
	for _, vc := range viewClasses {
		n := v.ByClass[vc.class]
		pct := 0
		if v.Total > 0 {
			pct = int(n * 100 / v.Total)
		}
		rows = append(rows, viewRow{Class: vc.class, Label: vc.label, N: n, Percent: pct})
	}
	return rows
}

type pageReport struct {
	pageBase
	URL       string
	Choice    periodChoice
	Total     stats.Breakdown
	Changes   funnelChanges
	Chart     dayChart
	PastedIn  []shareBar // previews by app
	Referrers []shareBar
	Devices   []shareBar
	InApp     []shareBar
	Channels  []channelRow
	Views     stats.ViewBreakdown
	ViewRows  []viewRow
	Method    string
	// Amplification is per channel the readers arrived by.
	Amplification []amplificationRow
}

type channelRow struct {
	Channel  link.Channel
	Code     string
	StatsURL string
	stats.Breakdown
}

// pageReport is one page's report: its funnel by channel, and its page
// views by landing class, for a period.
func (s *server) pageReport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, p, ok, err := s.adminPeriod(c)
		if !ok {
			return err
		}
		if c.Query("url") == "" {
			return errBadRequestf("pass the page as ?url=")
		}
		target, links, err := s.Links.ByURL(c.UserContext(), c.Query("url"))
		if err != nil {
			return err
		}
		out := pageReport{pageBase: b, URL: target, Choice: choiceOf(c, p), Total: stats.BreakdownOf(nil), Method: track.LandingMethod}
		out.Choice.URL = target
		prevTotal := stats.BreakdownOf(nil)
		days, prevDays := channelDays(p), channelDays(previous(p))
		for _, l := range links {
			sum, err := s.Stats.Summary(c.UserContext(), l.Code, p)
			if err != nil {
				return err
			}
			prev, err := s.Stats.Summary(c.UserContext(), l.Code, previous(p))
			if err != nil {
				return err
			}
			row := channelRow{Channel: l.Channel, Code: l.Code, StatsURL: "/stats/" + l.Code, Breakdown: stats.BreakdownOf(sum.Totals)}
			out.Total.Add(row.Breakdown)
			out.Channels = append(out.Channels, row)
			prevTotal.AddCounts(prev.Totals)
			addClicks(days, p, l.Channel, sum.Days)
			addClicks(prevDays, previous(p), l.Channel, prev.Days)
		}
		out.Changes = changesOf(out.Total, prevTotal, previous(p))
		out.Chart = newDayChart(days, dailyTotals(prevDays))
		t := out.Total
		out.PastedIn, out.Referrers, out.Devices, out.InApp = shareBars(t.PreviewsByApp), referrerBars(t.Referrers), shareBars(t.Devices), shareBars(t.InApp)
		if out.Views, err = s.viewsOf(c, target, p); err != nil {
			return err
		}
		out.ViewRows = viewRows(out.Views)
		out.Amplification = pageAmplification(out.Channels)
		return s.page(c, fiber.StatusOK, "page.html", out)
	}
}

// channelDays are the days of p with no clicks yet, for addClicks.
func channelDays(p stats.Period) []report.DayClicks {
	out := make([]report.DayClicks, 0, p.To-p.From+1)
	for d := p.From; d <= p.To; d++ {
		out = append(out, report.DayClicks{Day: d, Channels: map[link.Channel]uint64{}})
	}
	return out
}

// addClicks adds the clicks of a link of channel ch to days, the days of p.
func addClicks(days []report.DayClicks, p stats.Period, ch link.Channel, counts []stats.DayCounts) {
	for _, d := range counts {
		if p.Contains(d.Day) {
			n := d.Counts[stats.Clicks]
			days[d.Day-p.From].Channels[ch] += n
			days[d.Day-p.From].Total += n
		}
	}
}
