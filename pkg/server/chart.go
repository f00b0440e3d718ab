package server

import (
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
