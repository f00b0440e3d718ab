package track

import (
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// Landing is how a page view arrived on a site, as the landing beacon
// reports it.
type Landing uint8

// The landing classes. Every view a person made is exactly one of them.
const (
	LandingShortLink  Landing = iota // through a darkshare short link (the marker)
	LandingDarkSocial                // a private share with no visible source
	LandingSocial                    // from a social network
	LandingSearch                    // from a search engine
	LandingReferral                  // from another site
	LandingDirectHome                // typed or bookmarked: no referrer, on a front page
	LandingInternal                  // from another page of the same site
)

var landingNames = [...]string{"short-link", "dark-social", "social", "search", "referral", "direct-home", "internal"}

// String returns the class's counter name: "short-link", "dark-social",
// "social", "search", "referral", "direct-home" or "internal".
func (l Landing) String() string {
	if int(l) < len(landingNames) {
		return landingNames[l]
	}
	return "unknown"
}

// Dark reports whether l is private sharing: a short link or dark social.
// These make the dark-social share of a site's views.
func (l Landing) Dark() bool { return l == LandingShortLink || l == LandingDarkSocial }

// LandingMethod states how ClassifyView decides, for pages that show its
// counts: it is the rule list of ClassifyView, in words for site owners.
const LandingMethod = "Each page view the landing beacon reports is put in the first class whose rule it meets: " +
	"short-link, the address carried the marker of an existing darkshare link; " +
	"internal, the referrer is a page of the same site; " +
	"dark-social, the referrer is a webmail or a messenger's web app; " +
	"social or search, the referrer is a social network or a search engine; " +
	"referral, any other referrer; " +
	"dark-social, no referrer in an in-app browser, or no referrer on a deep page " +
	"(og:type article, or an address other than the home page or a one-word section front such as /news, without a query); " +
	"direct-home, no referrer on the home page or a section front (og:type website). " +
	"Bots, link previews and mail scanners are not views. " +
	"Dark-social share = (short-link + dark-social) / all views. No cookie is used; no address or user agent is stored."

// View is one page view reported by the landing beacon. Its strings may be
// borrowed from request memory: nothing here keeps them.
type View struct {
	Page      string     // the page's absolute URL
	Kind      string     // the page's og:type, "" if it declares none
	Referrer  string     // document.referrer
	UserAgent string     // the browser's
	IP        netip.Addr // the client's, for Classify's scanner ranges only
	// Marker is true when the page's address carried the code of an
	// existing, enabled link: the caller checks the code.
	Marker bool
}

// ClassifyView tells how v arrived. ok is false when no person made it (a
// bot, preview or scanner, by Classify's rules): such a request is no view.
// The rules are those of LandingMethod, in its order. The referrer and
// in-app browser come from Classify, so this adds no table of its own.
func (c *Classifier) ClassifyView(v View) (l Landing, ok bool) {
	r := c.Classify(Visit{Method: "GET", UserAgent: v.UserAgent, Referer: v.Referrer, IP: v.IP})
	if r.Class != Human {
		return 0, false
	}
	return landingOf(v, r), true
}

// landingOf applies the rules to the view of a person, classified as r.
func landingOf(v View, r Result) Landing {
	page, _ := url.Parse(v.Page) // a nil page is a deep page of no site
	switch {
	case v.Marker:
		return LandingShortLink
	case page != nil && sameSite(page.Hostname(), v.Referrer):
		return LandingInternal
	}
	switch r.Referrer {
	case RefWebmail, RefMessenger:
		return LandingDarkSocial
	case RefSocial:
		return LandingSocial
	case RefSearch:
		return LandingSearch
	case RefOther:
		// A referrer that names a site is a visible source, in an in-app
		// browser too: only a missing one hides where the reader came from.
		return LandingReferral
	}
	// Nobody types an address into an app's built-in browser.
	if r.App != "" || !isFront(page, v.Kind) {
		return LandingDarkSocial
	}
	return LandingDirectHome
}

// sameSite reports whether referrer is a page of the site of host: the same
// host, or the same registrable domain (www.example.org and
// news.example.org), as browsers define a site. IP literals and names with
// no registrable domain (localhost) must match exactly.
func sameSite(host, referrer string) bool {
	if host == "" || !strings.Contains(referrer, "//") {
		return false
	}
	ref, err := url.Parse(strings.TrimSpace(referrer))
	if err != nil || (ref.Scheme != "http" && ref.Scheme != "https") {
		return false
	}
	rh := strings.TrimSuffix(strings.ToLower(ref.Hostname()), ".")
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if rh == host {
		return rh != ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return false
	}
	refSite, err := publicsuffix.EffectiveTLDPlusOne(rh)
	return err == nil && refSite == site
}

// maxSectionName bounds a section front's one word: /news, /sport,
// /politique; longer words are more likely a page's own name.
const maxSectionName = 20

// isFront reports whether the page is a front page (the home page or a
// section front) rather than a deep page. The page's og:type decides
// when it is "article" (deep) or "website" (front). Otherwise the path
// does: "/" is the home page and "/news" or "/sport/" a section front,
// each possibly followed by an index file (/index.html); anything with
// more segments, a word with a digit, dash or dot, or a query string, is
// deep. A query picks content: WordPress's plain links are "/?p=123".
func isFront(page *url.URL, kind string) bool {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "article":
		return false
	case "website":
		return true
	}
	if page == nil || page.RawQuery != "" {
		return false
	}
	p := strings.TrimPrefix(page.Path, "/")
	if i := strings.LastIndexByte(p, '/'); isIndexFile(p[i+1:]) {
		p = p[:i+1]
	}
	p = strings.TrimSuffix(p, "/")
	return p == "" || isSectionWord(p)
}

// isIndexFile reports whether name is a web server's directory index:
// index.html, index.php, default.aspx and the like.
func isIndexFile(name string) bool {
	base, ext, ok := strings.Cut(strings.ToLower(name), ".")
	return ok && ext != "" && !strings.Contains(ext, ".") && (base == "index" || base == "default")
}

// isSectionWord reports whether s is one word of letters, in any script,
// of at most maxSectionName of them.
func isSectionWord(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > maxSectionName {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
