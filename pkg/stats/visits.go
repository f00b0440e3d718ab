package stats

import (
	"sort"
	"strings"

	"github.com/darkshare/darkshare/pkg/track"
)

// Metrics other than Clicks, Shares and Uniques. Breakdowns by app or class
// are counters named "<prefix><name>", e.g. "preview:whatsapp".
const (
	Scanners Metric = "scanners"
	Bots     Metric = "bots"

	previewPrefix  = "preview:"
	referrerPrefix = "ref:"
	inAppPrefix    = "inapp:"
	devicePrefix   = "device:"
)

// visitCounters are the ids of the counters a classified visit adds to,
// interned at start: the click path then neither builds names nor looks
// them up.
var visitCounters = newVisitCounters()

type visitCounterIDs struct {
	clicks, scanners, bots counterID
	referrers              [track.RefOther + 1]counterID
	devices                [track.Tablet + 1]counterID
	previews, inApp        appCounters
}

// appCounters are the counters of "<prefix><app>" for every app of track's
// tables, "other" included.
type appCounters map[string]counterID

func newAppCounters(prefix string, apps []string) appCounters {
	c := make(appCounters, len(apps))
	for _, app := range apps {
		c[app] = mustID(Metric(prefix + app))
	}
	return c
}

// of returns app's counter. track names apps from its tables only; any
// other name would count as "other".
func (c appCounters) of(app string) counterID {
	if id, ok := c[app]; ok {
		return id
	}
	return c["other"]
}

func newVisitCounters() *visitCounterIDs {
	v := &visitCounterIDs{
		clicks: mustID(Clicks), scanners: mustID(Scanners), bots: mustID(Bots),
		previews: newAppCounters(previewPrefix, track.PreviewApps()),
		inApp:    newAppCounters(inAppPrefix, track.InAppApps()),
	}
	for r := range v.referrers {
		v.referrers[r] = mustID(Metric(referrerPrefix + track.Referrer(r).String()))
	}
	for d := range v.devices {
		v.devices[d] = mustID(Metric(devicePrefix + track.Device(d).String()))
	}
	return v
}

// RecordVisit counts one classified request to code's short link: a human
// click with its referrer class, device and in-app browser, or a preview by
// app, a scanner or a bot. visitor is the day's visitor ID of a human click,
// added to the unique-visitor sketch when hasVisitor is true.
func (a *Aggregator) RecordVisit(code string, day Day, r track.Result, visitor uint64, hasVisitor bool) {
	v := visitCounters
	var ids [tallySlots]counterID
	n := 1
	switch r.Class {
	case track.Human:
		ids[0], ids[1], ids[2] = v.clicks, v.referrers[r.Referrer], v.devices[r.Device]
		n = 3
		if r.App != "" {
			ids[3] = v.inApp.of(r.App)
			n = 4
		}
	case track.Preview:
		ids[0], hasVisitor = v.previews.of(r.App), false
	case track.Scanner:
		ids[0], hasVisitor = v.scanners, false
	default:
		ids[0], hasVisitor = v.bots, false
	}
	a.count(code, day, ids[:n], visitor, hasVisitor)
}

// Breakdown is a set of counters read back as a site owner wants them:
// the funnel (shares, previews, clicks, unique visitors) and where the
// clicks came from. Maps are never nil.
type Breakdown struct {
	Shares         uint64            `json:"shares"`
	Previews       uint64            `json:"previews"`
	Clicks         uint64            `json:"clicks"`
	UniqueVisitors uint64            `json:"unique_visitors"`
	PreviewsByApp  map[string]uint64 `json:"previews_by_app"`
	Scanners       uint64            `json:"scanners"`
	Bots           uint64            `json:"bots"`
	Referrers      map[string]uint64 `json:"referrers"`
	InApp          map[string]uint64 `json:"in_app"`
	Devices        map[string]uint64 `json:"devices"`
	// Reshares are the shares of the readers the links brought, and
	// ResharesByChannel the same by the channel they shared by.
	Reshares          uint64            `json:"reshares"`
	ResharesByChannel map[string]uint64 `json:"reshares_by_channel"`
}

// BreakdownOf reads counters named as RecordVisit names them.
func BreakdownOf(counts map[Metric]uint64) Breakdown {
	b := Breakdown{
		PreviewsByApp: map[string]uint64{}, Referrers: map[string]uint64{},
		InApp: map[string]uint64{}, Devices: map[string]uint64{}, ResharesByChannel: map[string]uint64{},
	}
	b.AddCounts(counts)
	return b
}

// AddCounts adds counters named as RecordVisit, the shares and
// RecordReshare name them to b; b's maps must not be nil. It ignores other
// counters.
func (b *Breakdown) AddCounts(counts map[Metric]uint64) {
	for m, n := range counts {
		s := string(m)
		switch {
		case m == Clicks:
			b.Clicks += n
		case m == Shares:
			b.Shares += n
		case m == Uniques:
			b.UniqueVisitors += n
		case m == Scanners:
			b.Scanners += n
		case m == Bots:
			b.Bots += n
		case strings.HasPrefix(s, ResharePrefix):
			b.ResharesByChannel[s[len(ResharePrefix):]] += n
			b.Reshares += n
		case strings.HasPrefix(s, previewPrefix):
			b.PreviewsByApp[s[len(previewPrefix):]] += n
			b.Previews += n
		case strings.HasPrefix(s, referrerPrefix):
			b.Referrers[s[len(referrerPrefix):]] += n
		case strings.HasPrefix(s, inAppPrefix):
			b.InApp[s[len(inAppPrefix):]] += n
		case strings.HasPrefix(s, devicePrefix):
			b.Devices[s[len(devicePrefix):]] += n
		}
	}
}

// Add adds o's counters to b's.
func (b *Breakdown) Add(o Breakdown) {
	b.Shares += o.Shares
	b.Previews += o.Previews
	b.Clicks += o.Clicks
	b.UniqueVisitors += o.UniqueVisitors
	b.Scanners += o.Scanners
	b.Bots += o.Bots
	b.Reshares += o.Reshares
	for _, pair := range []struct{ dst, src map[string]uint64 }{
		{b.PreviewsByApp, o.PreviewsByApp}, {b.Referrers, o.Referrers}, {b.InApp, o.InApp}, {b.Devices, o.Devices},
		{b.ResharesByChannel, o.ResharesByChannel},
	} {
		for k, n := range pair.src {
			pair.dst[k] += n
		}
	}
}

// Ranked is one entry of a breakdown map, for display in order.
type Ranked struct {
	Name string
	N    uint64
}

// Rank returns m's entries, largest first, then by name.
func Rank(m map[string]uint64) []Ranked {
	out := make([]Ranked, 0, len(m))
	for k, n := range m {
		out = append(out, Ranked{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}
