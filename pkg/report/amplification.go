package report

import (
	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
)

// ChannelAmplification is how far the readers one channel brought passed
// the page on: reshares per click, and mostly by which channel.
type ChannelAmplification struct {
	Channel link.Channel
	stats.Amplification
}

// Amplify returns the amplification of each channel of rows that brought a
// click or a reshare, in rows' order.
func Amplify(rows []ChannelRow) []ChannelAmplification {
	out := make([]ChannelAmplification, 0, len(rows))
	for _, r := range rows {
		if r.Clicks == 0 && r.Reshares == 0 {
			continue
		}
		out = append(out, ChannelAmplification{Channel: r.Channel, Amplification: stats.AmplificationOf(r.Breakdown)})
	}
	return out
}
