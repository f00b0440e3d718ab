package stats

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
