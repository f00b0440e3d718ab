package stats

import (
	"strings"

	"github.com/darkshare/darkshare/pkg/track"
)

// Page views reported by the landing beacon are kept in day records like a
// link's, under keys no code can take (codes never hold "~"): one per page,
// and one for every page together.
const SiteKey = "~"

// PageKey is the day-record key of the views of a page (a normalised URL).
func PageKey(url string) string { return SiteKey + url }

// The landing classes of a page view, as counter names: ViewPrefix + class.
// Classes are the names of track's landing classes (short-link, dark-social,
// social, search, referral, direct-home, internal).
const ViewPrefix = "view:"

// viewMetrics are the counter names of the landing classes, made once so
// that counting a view builds no string. It is never written after init.
var viewMetrics = func() (ms [track.LandingInternal + 1]Metric) {
	for l := range ms {
		ms[l] = Metric(ViewPrefix + track.Landing(l).String())
	}
	return ms
}()

// RecordView counts one page view of class l under the page and under
// SiteKey, pending until the next flush like clicks. pageURL is the
// normalised URL; it may be borrowed memory, since only a new string made
// from it is kept. A class out of range is not counted.
func (a *Aggregator) RecordView(pageURL string, day Day, l track.Landing) {
	if int(l) >= len(viewMetrics) {
		return
	}
	a.Add(PageKey(pageURL), day, viewMetrics[l])
	a.Add(SiteKey, day, viewMetrics[l])
}

// ViewBreakdown is the page views of a page or site by landing class, read
// back from a Summary's counters.
type ViewBreakdown struct {
	Total uint64 `json:"total"`
	// ByClass has every class, zero included, by its counter name.
	ByClass map[string]uint64 `json:"by_class"`
	// DarkSocial counts the views that came by private sharing: through a
	// short link, or dark social.
	DarkSocial uint64 `json:"dark_social"`
	// DarkSocialShare is DarkSocial / Total, from 0 to 1; 0 with no views.
	DarkSocialShare float64 `json:"dark_social_share"`
}

// ViewBreakdownOf reads the view counters among counts (a Summary's Totals
// or a day's Counts) and ignores the others. A class this version does not
// know still counts in Total and ByClass, so the numbers add up.
func ViewBreakdownOf(counts map[Metric]uint64) ViewBreakdown {
	v := ViewBreakdown{ByClass: make(map[string]uint64, len(viewMetrics))}
	for l := range track.LandingInternal + 1 {
		v.ByClass[l.String()] = 0
	}
	for m, n := range counts {
		class, ok := strings.CutPrefix(string(m), ViewPrefix)
		if !ok {
			continue
		}
		v.ByClass[class] += n
		v.Total += n
	}
	v.DarkSocial = v.ByClass[track.LandingShortLink.String()] + v.ByClass[track.LandingDarkSocial.String()]
	if v.Total > 0 {
		v.DarkSocialShare = float64(v.DarkSocial) / float64(v.Total)
	}
	return v
}
