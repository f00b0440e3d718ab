package stats

// ResharePrefix names a link's reshares by the channel of the new share
// ("reshares:whatsapp"). A reshare is a share made by a reader the link
// brought: a share intent whose via named the link (the landing marker the
// reader arrived with), counted on that link. Breakdown.Reshares, the
// total, is their sum; records written before it was derived also hold a
// "reshares" counter, which reads ignore.
const ResharePrefix = "reshares:"

// RecordReshare counts one reshare of the link with code, by channel (the
// new share's), pending until the next flush like clicks. code must be a
// string the caller owns.
func (a *Aggregator) RecordReshare(code string, day Day, channel string) {
	a.Add(code, day, Metric(ResharePrefix+channel))
}

// Amplification is how far the readers that one channel's links brought
// passed the page on: their reshares per click, and by which channels.
type Amplification struct {
	Clicks   uint64 `json:"clicks"`
	Reshares uint64 `json:"reshares"`
	// ResharesPerClick is Reshares / Clicks; 0 with no clicks.
	ResharesPerClick float64 `json:"reshares_per_click"`
	// MostlyTo is the channel most reshares went by (the first by name
	// among equals), "" with none.
	MostlyTo          string            `json:"mostly_to"`
	ResharesByChannel map[string]uint64 `json:"reshares_by_channel"`
}

// AmplificationOf reads the amplification of the links whose counters b
// adds up: one link, or every link of a channel. Its map is b's.
func AmplificationOf(b Breakdown) Amplification {
	a := Amplification{Clicks: b.Clicks, Reshares: b.Reshares, ResharesByChannel: b.ResharesByChannel}
	if b.Clicks > 0 {
		a.ResharesPerClick = float64(b.Reshares) / float64(b.Clicks)
	}
	if r := Rank(b.ResharesByChannel); len(r) > 0 && r[0].N > 0 {
		a.MostlyTo = r[0].Name
	}
	return a
}
