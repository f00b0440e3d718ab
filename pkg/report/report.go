// Package report builds the site-wide dark-social report of a period: what
// every link and page did, by channel and day, and what share of all page
// views private sharing brought.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

// Counts is what the report reads: every key's counts, day by day.
type Counts interface {
	Scan(ctx context.Context, period stats.Period, fn func(stats.KeyCounts) error) error
}

// Links tells what a code is, and the page a link's target shows.
type Links interface {
	Get(ctx context.Context, code string) (link.Link, error)
	// PageOf returns the page address of a target: the key of its
	// page's views.
	PageOf(target string) string
}

// Report is a period's dark-social report.
type Report struct {
	Period stats.Period
	// Totals is the funnel over every link.
	Totals stats.Breakdown
	// Channels is the funnel of each channel, in link.Channels order.
	Channels []ChannelRow
	// ClicksPerDay holds, for each day of the period in order, the clicks
	// of each channel.
	ClicksPerDay []DayClicks
	// Pages and Links are the busiest, most clicks first.
	Pages []PageRow
	Links []LinkRow
	// PageCount and LinkCount count every page and link with activity.
	PageCount, LinkCount int
	// Views are the page views the landing beacon reported, every page.
	Views stats.ViewBreakdown
	// Hosts are the page views by the host of their pages, most views
	// first: the site-wide share of each site an instance serves.
	Hosts []HostViews
}

// HostViews are the page views of one host's pages.
type HostViews struct {
	Host  string
	Views stats.ViewBreakdown
}

// ChannelRow is one channel's funnel.
type ChannelRow struct {
	Channel link.Channel
	stats.Breakdown
}

// DayClicks are the clicks of one day by channel.
type DayClicks struct {
	Day      stats.Day
	Channels map[link.Channel]uint64
	Total    uint64
}

// PageRow is one page, by its page address (Links.PageOf): its links'
// funnels added up, and its page views.
type PageRow struct {
	URL string
	// Target is the target of one of the page's links ("" for a page with
	// views and no link): links are found by target, and the page address
	// may have dropped a parameter the target keeps.
	Target string
	stats.Breakdown
	Views stats.ViewBreakdown
}

// LinkRow is one link's funnel.
type LinkRow struct {
	Link link.Link
	stats.Breakdown
}

// Build reads period and returns its report, with the top busiest pages
// and links.
func Build(ctx context.Context, counts Counts, links Links, period stats.Period, top int) (Report, error) {
	if !period.Valid() {
		return Report{}, stats.ErrPeriod
	}
	acc := accumulator{
		ctx: ctx, links: links, period: period, codes: map[string]*linkCounts{},
		siteViews: map[stats.Metric]uint64{}, pageViews: map[string]map[stats.Metric]uint64{},
		clicks: make([][channelCount]uint64, int(period.To-period.From)+1),
	}
	if err := counts.Scan(ctx, period, acc.add); err != nil {
		return Report{}, fmt.Errorf("read the counts of %s to %s: %w", period.From, period.To, err)
	}
	return acc.report(top), nil
}

const channelCount = 8 // len(link.Channels)

// accumulator sums a scan. A report reads every record of its period, so
// each record costs a lookup of its code and a few additions, no more.
type accumulator struct {
	ctx       context.Context
	links     Links
	period    stats.Period
	codes     map[string]*linkCounts             // nil for a code that is no link
	siteViews map[stats.Metric]uint64            // the view counters of every page
	pageViews map[string]map[stats.Metric]uint64 // by page
	clicks    [][channelCount]uint64             // by day of the period, then channel
}

type linkCounts struct {
	link    link.Link
	channel int // in link.Channels
	stats.Breakdown
}

func (a *accumulator) add(kc stats.KeyCounts) error {
	if page, ok := strings.CutPrefix(kc.Key, stats.SiteKey); ok {
		if page == "" {
			addCounts(a.siteViews, kc.Counts)
		} else {
			addCounts(counter(a.pageViews, page), kc.Counts)
		}
		return nil
	}
	lc, err := a.linkOf(kc.Key)
	if lc == nil {
		return err
	}
	lc.AddCounts(kc.Counts)
	a.clicks[kc.Day-a.period.From][lc.channel] += kc.Counts[stats.Clicks]
	return nil
}

// linkOf returns the counts of code's link, looking the link up the first
// time. It returns nil for a code that is no link: counted before a restore
// of an older backup, say.
func (a *accumulator) linkOf(code string) (*linkCounts, error) {
	if lc, seen := a.codes[code]; seen {
		return lc, nil
	}
	l, err := a.links.Get(a.ctx, code)
	if errors.Is(err, link.ErrNotFound) {
		a.codes[code] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up link %s: %w", code, err)
	}
	ch := slices.Index(link.Channels, l.Channel)
	if ch < 0 {
		return nil, fmt.Errorf("link %s has an unknown channel %q", code, l.Channel)
	}
	lc := &linkCounts{link: l, channel: ch, Breakdown: stats.BreakdownOf(nil)}
	a.codes[code] = lc
	return lc, nil
}

// counter returns the counters of key in m, adding them if new.
func counter(m map[string]map[stats.Metric]uint64, key string) map[stats.Metric]uint64 {
	c := m[key]
	if c == nil {
		c = make(map[stats.Metric]uint64)
		m[key] = c
	}
	return c
}

func addCounts(dst, src map[stats.Metric]uint64) {
	for m, n := range src {
		dst[m] += n
	}
}

func (a *accumulator) report(top int) Report {
	r := Report{Period: a.period, Totals: stats.BreakdownOf(nil), Views: stats.ViewBreakdownOf(a.siteViews)}
	var channels [channelCount]*stats.Breakdown
	pages := map[string]*PageRow{}
	for _, lc := range a.codes {
		if lc == nil {
			continue
		}
		r.Totals.Add(lc.Breakdown)
		r.Links = append(r.Links, LinkRow{Link: lc.link, Breakdown: lc.Breakdown})
		if channels[lc.channel] == nil {
			empty := stats.BreakdownOf(nil)
			channels[lc.channel] = &empty
		}
		channels[lc.channel].Add(lc.Breakdown)
		url := a.links.PageOf(lc.link.URL)
		page := pages[url]
		if page == nil {
			page = &PageRow{URL: url, Target: lc.link.URL, Breakdown: stats.BreakdownOf(nil)}
			pages[url] = page
		}
		page.Add(lc.Breakdown)
	}
	hosts := map[string]map[stats.Metric]uint64{}
	for url, counts := range a.pageViews {
		if pages[url] == nil {
			pages[url] = &PageRow{URL: url, Breakdown: stats.BreakdownOf(nil)}
		}
		pages[url].Views = stats.ViewBreakdownOf(counts)
		addCounts(counter(hosts, hostOf(url)), counts)
	}
	for host, counts := range hosts {
		r.Hosts = append(r.Hosts, HostViews{Host: host, Views: stats.ViewBreakdownOf(counts)})
	}
	slices.SortFunc(r.Hosts, func(a, b HostViews) int {
		return cmp.Or(cmp.Compare(b.Views.Total, a.Views.Total), strings.Compare(a.Host, b.Host))
	})
	for i, b := range channels {
		if b != nil {
			r.Channels = append(r.Channels, ChannelRow{Channel: link.Channels[i], Breakdown: *b})
		}
	}
	for i, byChannel := range a.clicks {
		dc := DayClicks{Day: a.period.From + stats.Day(i), Channels: map[link.Channel]uint64{}}
		for ch, n := range byChannel {
			if n > 0 {
				dc.Channels[link.Channels[ch]] = n
				dc.Total += n
			}
		}
		r.ClicksPerDay = append(r.ClicksPerDay, dc)
	}
	r.LinkCount, r.PageCount = len(r.Links), len(pages)
	r.Links = topLinks(r.Links, top)
	r.Pages = topPages(pages, top)
	return r
}

// busier orders funnels by clicks, then shares, then previews.
func busier(a, b stats.Breakdown) int {
	return cmp.Or(cmp.Compare(b.Clicks, a.Clicks), cmp.Compare(b.Shares, a.Shares), cmp.Compare(b.Previews, a.Previews))
}

func topLinks(rows []LinkRow, n int) []LinkRow {
	slices.SortFunc(rows, func(a, b LinkRow) int {
		return cmp.Or(busier(a.Breakdown, b.Breakdown), strings.Compare(a.Link.Code, b.Link.Code))
	})
	return rows[:min(n, len(rows))]
}

func topPages(pages map[string]*PageRow, n int) []PageRow {
	rows := make([]PageRow, 0, len(pages))
	for _, p := range pages {
		rows = append(rows, *p)
	}
	slices.SortFunc(rows, func(a, b PageRow) int {
		return cmp.Or(busier(a.Breakdown, b.Breakdown), cmp.Compare(b.Views.Total, a.Views.Total), strings.Compare(a.URL, b.URL))
	})
	return rows[:min(n, len(rows))]
}

// hostOf returns the host of a page's normalised URL, or the URL itself if
// it has none.
func hostOf(page string) string {
	u, err := url.Parse(page)
	if err != nil || u.Host == "" {
		return page
	}
	return u.Host
}
