package server

import (
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/pkg/stats"
)

// chart is a bar chart drawn as SVG on the server, so it needs no script and
// is the same picture for every reader; the table under it carries the numbers.
type chart struct {
	Width, Height, Baseline int
	From, To                string
	Max                     uint64
	Bars                    []bar
}

type bar struct {
	X, Y, W, H int
	Date       string
	N          uint64
}

const (
	chartWidth = 600
	chartPlotH = 160
)

// dayChart draws one bar per day for the days days ending with last.
func dayChart(perDay map[stats.Day]uint64, last stats.Day, days int) chart {
	first := last - stats.Day(days-1)
	ch := chart{
		Width: chartWidth, Height: chartPlotH + 1, Baseline: chartPlotH,
		From: first.String(), To: last.String(),
	}
	for d := first; d <= last; d++ {
		ch.Max = max(ch.Max, perDay[d])
	}
	slot := chartWidth / days
	for i := range days {
		d := first + stats.Day(i)
		n := perDay[d]
		h := 0
		if ch.Max > 0 {
			h = int(n * uint64(chartPlotH-4) / ch.Max)
		}
		if n > 0 && h < 2 {
			h = 2 // a day with a click stays visible
		}
		ch.Bars = append(ch.Bars, bar{X: i*slot + 1, Y: chartPlotH - h, W: slot - 2, H: h, Date: d.String(), N: n})
	}
	return ch
}

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

// stackedChart is one bar per day, stacked by channel, drawn as SVG with a
// colour per channel (fill attributes: the CSP forbids inline styles).
type stackedChart struct {
	Width, Height, Baseline int
	From, To                string
	Max                     uint64
	Days                    []stackedDay
	Legend                  []legendEntry
}

type stackedDay struct {
	Date     string
	Total    uint64
	Segments []segment
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

func channelChart(days []report.DayClicks) stackedChart {
	ch := stackedChart{Width: chartWidth, Height: chartPlotH + 1, Baseline: chartPlotH}
	if len(days) == 0 {
		return ch
	}
	ch.From, ch.To = days[0].Day.String(), days[len(days)-1].Day.String()
	used := map[link.Channel]bool{}
	for _, d := range days {
		ch.Max = max(ch.Max, d.Total)
		for c, n := range d.Channels {
			used[c] = used[c] || n > 0
		}
	}
	for _, c := range link.Channels {
		if used[c] {
			ch.Legend = append(ch.Legend, legendEntry{Channel: c, Fill: channelFills[c]})
		}
	}
	slot := float64(chartWidth) / float64(len(days))
	gap := min(1, slot/4)
	for i, d := range days {
		sd := stackedDay{Date: d.Day.String(), Total: d.Total}
		y := float64(chartPlotH)
		for _, c := range link.Channels {
			n := d.Channels[c]
			if n == 0 || ch.Max == 0 {
				continue
			}
			h := float64(n) * float64(chartPlotH-4) / float64(ch.Max)
			y -= h
			sd.Segments = append(sd.Segments, segment{X: float64(i)*slot + gap, Y: y, W: slot - 2*gap, H: h, Fill: channelFills[c], Channel: c, N: n})
		}
		ch.Days = append(ch.Days, sd)
	}
	return ch
}
