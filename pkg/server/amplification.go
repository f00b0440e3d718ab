package server

import (
	"strconv"

	"github.com/darkshare/darkshare/pkg/report"
)

// amplificationRow is one arriving channel's amplification as the pages
// show it, side by side with the others: a bar as long as its reshares per
// click against the largest (0 to 100).
type amplificationRow struct {
	report.ChannelAmplification
	PerClick string // "0.12"
	Percent  int
}

func amplificationRows(amps []report.ChannelAmplification) []amplificationRow {
	top := 0.0
	for _, a := range amps {
		top = max(top, a.ResharesPerClick)
	}
	rows := make([]amplificationRow, 0, len(amps))
	for _, a := range amps {
		row := amplificationRow{ChannelAmplification: a, PerClick: strconv.FormatFloat(a.ResharesPerClick, 'f', 2, 64)}
		if top > 0 {
			row.Percent = int(100 * a.ResharesPerClick / top)
		}
		rows = append(rows, row)
	}
	return rows
}

// pageAmplification is the amplification of each channel of a page.
func pageAmplification(channels []channelRow) []amplificationRow {
	rows := make([]report.ChannelRow, 0, len(channels))
	for _, c := range channels {
		rows = append(rows, report.ChannelRow{Channel: c.Channel, Breakdown: c.Breakdown})
	}
	return amplificationRows(report.Amplify(rows))
}
