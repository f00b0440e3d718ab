// Package report builds the site-wide dark-social report of a period: what
// every link and page did, by channel and day, and what share of all page
// views private sharing brought.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

// Counts is what the report reads: every key's counts, day by day.
type Counts interface {
	Scan(ctx context.Context, period stats.Period, fn func(stats.KeyCounts) error) error
}

// Links tells what a code is.
type Links interface {
	Get(ctx context.Context, code string) (link.Link, error)
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

// PageRow is one page: its links' funnels added up, and its page views.
type PageRow struct {
	URL string
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
	acc := accumulator{
		links: links, byCode: map[string]map[stats.Metric]uint64{}, siteViews: map[stats.Metric]uint64{},
		pageViews: map[string]map[stats.Metric]uint64{},
		perDay:    map[stats.Day]map[string]uint64{},
	}
	if err := counts.Scan(ctx, period, acc.add); err != nil {
		return Report{}, fmt.Errorf("read the counts of %s to %s: %w", period.From, period.To, err)
	}
	return acc.report(ctx, period, top)
}

// accumulator sums a scan by code; links are looked up once at the end.
type accumulator struct {
	links     Links
	byCode    map[string]map[stats.Metric]uint64
	siteViews map[stats.Metric]uint64            // the view counters of every page
	pageViews map[string]map[stats.Metric]uint64 // by page
	perDay    map[stats.Day]map[string]uint64    // clicks by code
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
	addCounts(counter(a.byCode, kc.Key), kc.Counts)
	if n := kc.Counts[stats.Clicks]; n > 0 {
		day := a.perDay[kc.Day]
		if day == nil {
			day = make(map[string]uint64)
			a.perDay[kc.Day] = day
		}
		day[kc.Key] += n
	}
	return nil
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

func (a *accumulator) report(ctx context.Context, period stats.Period, top int) (Report, error) {
	r := Report{Period: period, Totals: stats.BreakdownOf(nil), Views: stats.ViewBreakdownOf(a.siteViews)}
	channels := map[link.Channel]*stats.Breakdown{}
	pages := map[string]*PageRow{}
	codeChannel := make(map[string]link.Channel, len(a.byCode))
	for code, counts := range a.byCode {
		l, err := a.links.Get(ctx, code)
		if errors.Is(err, link.ErrNotFound) {
			continue // counted before a restore of an older backup: no link to show
		}
		if err != nil {
			return Report{}, fmt.Errorf("look up link %s: %w", code, err)
		}
		b := stats.BreakdownOf(counts)
		r.Totals.Add(b)
		r.Links = append(r.Links, LinkRow{Link: l, Breakdown: b})
		codeChannel[code] = l.Channel
		if channels[l.Channel] == nil {
			empty := stats.BreakdownOf(nil)
			channels[l.Channel] = &empty
		}
		channels[l.Channel].Add(b)
		if pages[l.URL] == nil {
			pages[l.URL] = &PageRow{URL: l.URL, Breakdown: stats.BreakdownOf(nil)}
		}
		pages[l.URL].Add(b)
	}
	for page, counts := range a.pageViews {
		if pages[page] == nil {
			pages[page] = &PageRow{URL: page, Breakdown: stats.BreakdownOf(nil)}
		}
		pages[page].Views = stats.ViewBreakdownOf(counts)
	}
	for _, ch := range link.Channels {
		if b := channels[ch]; b != nil {
			r.Channels = append(r.Channels, ChannelRow{Channel: ch, Breakdown: *b})
		}
	}
	for day := period.From; day <= period.To; day++ {
		dc := DayClicks{Day: day, Channels: map[link.Channel]uint64{}}
		for code, n := range a.perDay[day] {
			if ch, ok := codeChannel[code]; ok {
				dc.Channels[ch] += n
				dc.Total += n
			}
		}
		r.ClicksPerDay = append(r.ClicksPerDay, dc)
	}
	r.LinkCount, r.PageCount = len(r.Links), len(pages)
	r.Links = topLinks(r.Links, top)
	r.Pages = topPages(pages, top)
	return r, nil
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
