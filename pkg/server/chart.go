package server

import (
	"fmt"
	"strconv"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/pkg/stats"
)

// shareBar is one row of a breakdown table, with a bar as wide as its share
// of the largest row (0 to 100), drawn as SVG so the CSP needs no inline style.
type shareBar struct {
	Name    string
	N       uint64
	Percent int
}

// referrerBars are shareBars of referrer classes, named by their labels.
func referrerBars(m map[string]uint64) []shareBar {
	bars := shareBars(m)
	for i := range bars {
		bars[i].Name = referrerLabel(bars[i].Name)
	}
	return bars
}

func shareBars(m map[string]uint64) []shareBar {
	ranked := stats.Rank(m)
	out := make([]shareBar, 0, len(ranked))
	for _, r := range ranked {
		if r.N == 0 {
			continue
		}
		out = append(out, shareBar{Name: r.Name, N: r.N, Percent: int(r.N * 100 / ranked[0].N)})
	}
	return out
}

// dayChart is a column per day, stacked by channel, drawn as SVG on the
// server: the same picture for every reader, with no script needed to
// read it. It has a y-axis with a scale and gridlines, the previous
// period's daily totals as a faint line, and a tooltip per day that CSS
// shows on hover and on keyboard focus. Tooltips sit in a band above the
// plot, where no column reaches, so none is drawn under a later column.
// Colours are fill attributes: the CSP forbids inline styles.
type dayChart struct {
	Width, Height            int
	Left, Right, Top, Bottom float64 // the plot area
	PlotH                    float64 // Bottom - Top
	LabelX                   float64 // where the scale's labels end
	From, To                 string
	Max                      uint64 // the top of the scale
	Peak                     uint64 // the busiest day
	Ticks                    []tick
	Days                     []chartDay
	Prev                     string // the previous period's line as SVG points; "" if none
	Legend                   []legendEntry
}

type tick struct {
	Y     float64
	Label string
}

type chartDay struct {
	Date         string
	X, W         float64 // the day's slot
	Total        uint64
	Prev         uint64
	HasPrev      bool
	Segments     []segment
	TipX         float64
	TipAnchor    string // start, middle or end: keeps the tooltip inside the chart
	Focusable    bool   // the one day that the Tab key reaches; arrow keys move on
	ChannelsNote string // "email 3 · sms 2", for days with more than one channel
}

type segment struct {
	X, Y, W, H float64
	Fill       string
	Channel    link.Channel
	N          uint64
}

type legendEntry struct {
	Channel link.Channel
	Fill    string
}

// channelFills gives each channel a colour told apart by most readers with
// colour-vision deficiency (the Okabe–Ito palette, plus grey and black).
var channelFills = map[link.Channel]string{
	link.Email: "#0072B2", link.SMS: "#E69F00", link.WhatsApp: "#009E73", link.Messenger: "#56B4E9",
	link.Telegram: "#CC79A7", link.Copy: "#D55E00", link.Native: "#999999", link.QR: "#000000",
}

// The chart's viewBox: a band for the tooltip on top, room for the scale's
// labels on the left.
const (
	chartWidth  = 640
	chartHeight = 210
	chartLeft   = 40
	chartRight  = chartWidth - 6
	chartTop    = 44
	chartBottom = chartHeight - 6
)

// newDayChart draws days, in order, with prev the previous period's daily
// totals (prev[i] is the day len(days) days before days[i]; nil for none).
func newDayChart(days []report.DayClicks, prev []uint64) dayChart {
	ch := dayChart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom, PlotH: chartBottom - chartTop, LabelX: chartLeft - 6}
	if len(days) == 0 {
		return ch
	}
	ch.From, ch.To = days[0].Day.String(), days[len(days)-1].Day.String()
	used := map[link.Channel]bool{}
	top := uint64(0)
	for i, d := range days {
		ch.Peak = max(ch.Peak, d.Total)
		top = max(top, d.Total)
		if i < len(prev) {
			top = max(top, prev[i])
		}
		for c, n := range d.Channels {
			used[c] = used[c] || n > 0
		}
	}
	for _, c := range link.Channels {
		if used[c] {
			ch.Legend = append(ch.Legend, legendEntry{Channel: c, Fill: channelFills[c]})
		}
	}
	step := niceStep(top)
	ch.Max = max(step, (top+step-1)/step*step)
	for v := uint64(0); v <= ch.Max; v += step {
		ch.Ticks = append(ch.Ticks, tick{Y: ch.y(v), Label: strconv.FormatUint(v, 10)})
	}
	slot := (ch.Right - ch.Left) / float64(len(days))
	gap := min(1, slot/4)
	var points []byte
	prevAny := false
	for i, d := range days {
		cd := chartDay{Date: d.Day.String(), X: ch.Left + float64(i)*slot, W: slot, Total: d.Total, Focusable: i == len(days)-1}
		cd.TipX, cd.TipAnchor = tipPlace(cd.X+slot/2, ch.Left, ch.Right)
		if i < len(prev) {
			cd.Prev, cd.HasPrev = prev[i], true
			prevAny = prevAny || prev[i] > 0
			points = fmt.Appendf(points, "%.1f,%.1f ", cd.X+slot/2, ch.y(prev[i]))
		}
		y := ch.Bottom
		var note []byte
		for _, c := range link.Channels {
			n := d.Channels[c]
			if n == 0 {
				continue
			}
			h := float64(n) * ch.PlotH / float64(ch.Max)
			y -= h
			cd.Segments = append(cd.Segments, segment{X: cd.X + gap, Y: y, W: slot - 2*gap, H: h, Fill: channelFills[c], Channel: c, N: n})
			if len(note) > 0 {
				note = append(note, " · "...)
			}
			note = fmt.Appendf(note, "%s %d", c, n)
		}
		if len(cd.Segments) > 1 {
			cd.ChannelsNote = string(note)
		}
		ch.Days = append(ch.Days, cd)
	}
	if prevAny {
		ch.Prev = string(points[:len(points)-1])
	}
	return ch
}

func (ch dayChart) y(v uint64) float64 {
	return ch.Bottom - float64(v)*ch.PlotH/float64(ch.Max)
}

// niceStep is the gridlines' step for a scale up to top: 1, 2 or 5 times a
// power of ten, with at most five steps.
func niceStep(top uint64) uint64 {
	for unit := uint64(1); ; unit *= 10 {
		for _, m := range []uint64{1, 2, 5} {
			if step := m * unit; top <= 5*step {
				return step
			}
		}
	}
}

// tipPlace anchors a tooltip of unknown width over x: from the left edge in
// the chart's left third, to the right edge in its right third, centred
// between, so that a line of some sixty characters stays inside.
func tipPlace(x, left, right float64) (float64, string) {
	third := (right - left) / 3
	switch {
	case x < left+third:
		return left, "start"
	case x > right-third:
		return right, "end"
	}
	return x, "middle"
}

// linkDays are one link's clicks per day of period, as a chart draws them.
func linkDays(l link.Link, days []stats.DayCounts, period stats.Period) []report.DayClicks {
	out := make([]report.DayClicks, 0, period.To-period.From+1)
	byDay := make(map[stats.Day]uint64, len(days))
	for _, d := range days {
		byDay[d.Day] = d.Counts[stats.Clicks]
	}
	for d := period.From; d <= period.To; d++ {
		out = append(out, report.DayClicks{Day: d, Channels: map[link.Channel]uint64{l.Channel: byDay[d]}, Total: byDay[d]})
	}
	return out
}

// dailyTotals are the clicks of each day of days.
func dailyTotals(days []report.DayClicks) []uint64 {
	out := make([]uint64, len(days))
	for i, d := range days {
		out[i] = d.Total
	}
	return out
}

// previous is the period of the same length that ends the day before p.
func previous(p stats.Period) stats.Period {
	n := p.To - p.From + 1
	return stats.Period{From: p.From - n, To: p.To - n}
}

// change is a card's comparison with the previous period.
type change struct {
	Text  string // "↑ 25%", "↓ 40%", "new", "no change"
	Class string // up, down, flat or new
	Prev  uint64
}

func changeOf(now, prev uint64) change {
	switch {
	case now == prev:
		return change{Text: "no change", Class: "flat", Prev: prev}
	case prev == 0:
		return change{Text: "new", Class: "new", Prev: prev}
	case now > prev:
		return change{Text: "↑ " + percentChange(now-prev, prev), Class: "up", Prev: prev}
	}
	return change{Text: "↓ " + percentChange(prev-now, prev), Class: "down", Prev: prev}
}

// percentChange is diff as a share of base, rounded to a whole percent;
// a change too small to round to 1% says "<1%".
func percentChange(diff, base uint64) string {
	pct := (diff*100 + base/2) / base
	if pct == 0 {
		return "<1%"
	}
	return strconv.FormatUint(pct, 10) + "%"
}

// funnelChanges are the funnel cards' comparisons.
type funnelChanges struct {
	Shares, Previews, Clicks, Uniques change
	// From and To bound the previous period.
	From, To string
}

func changesOf(now, prev stats.Breakdown, p stats.Period) funnelChanges {
	return funnelChanges{
		Shares: changeOf(now.Shares, prev.Shares), Previews: changeOf(now.Previews, prev.Previews),
		Clicks: changeOf(now.Clicks, prev.Clicks), Uniques: changeOf(now.UniqueVisitors, prev.UniqueVisitors),
		From: p.From.String(), To: p.To.String(),
	}
}
