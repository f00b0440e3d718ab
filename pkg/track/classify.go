// Package track tells who requested a short link: a person (and from which
// device, app and referrer), a link preview, a mail security scanner or a bot.
// It also finds the client address behind trusted proxies.
//
// Nothing here keeps request memory: Visit strings may be borrowed from the
// server's buffers. App names in results are constants from this package's
// tables, never text taken from a request.
package track

import (
	"net/netip"
	"strings"
)

// Class is what made a request.
type Class uint8

// The classes, in the order the rules are checked (see Classify).
const (
	Human   Class = iota // a person opened the link in a browser
	Preview              // an app fetched the link to draw a preview card
	Scanner              // a mail security gateway checked the link
	Bot                  // a crawler, HTTP tool or headless browser
)

var classNames = [...]string{"human", "preview", "scanner", "bot"}

// String returns "human", "preview", "scanner" or "bot".
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Device is the kind of device a person used.
type Device uint8

// The devices.
const (
	Desktop Device = iota
	Mobile
	Tablet
)

var deviceNames = [...]string{"desktop", "mobile", "tablet"}

// String returns "desktop", "mobile" or "tablet".
func (d Device) String() string {
	if int(d) < len(deviceNames) {
		return deviceNames[d]
	}
	return "unknown"
}

// Visit is one request to a short link. Its strings may be borrowed from
// request memory: nothing here keeps them (a Classifier's cache keeps only
// hashes of them).
type Visit struct {
	Method    string // "GET", "HEAD", …; "" counts as GET
	UserAgent string
	Referer   string
	IP        netip.Addr // the client address, see ClientIP
}

// Result is what Classify found.
type Result struct {
	Class Class
	// App names the source, always one of this package's constant names:
	// for Preview, the app that drew the card (see PreviewApps); for Human,
	// the app whose built-in browser was used (see InAppApps), or "" for a
	// browser; for Scanner, the vendor ("microsoft", "barracuda"); for Bot, "".
	App      string
	Device   Device   // Human only; Desktop otherwise
	Referrer Referrer // Human only; RefNone otherwise
}

// maxHumanUA is far above real browsers' agents (about 100 to 400 bytes,
// in-app browsers included).
const maxHumanUA = 768

// Classifier classifies visits. It is safe for concurrent use; create one
// with NewClassifier and share it.
type Classifier struct {
	matcher  *uaMatcher
	verdicts *verdictCache
}

// NewClassifier returns a Classifier with an empty cache. It builds the
// pattern matcher, which takes milliseconds: create one per process, not one
// per request.
func NewClassifier() *Classifier {
	m, err := newUAMatcher()
	if err != nil {
		// The tables are constants of this package: a test catches this.
		panic(err)
	}
	return &Classifier{matcher: m, verdicts: newVerdictCache()}
}

// Classify tells who made v. The rules, in order:
//
//  1. An empty or blank user agent is a Bot.
//  2. An in-app browser (Facebook, Instagram, TikTok, …) is a Human, with the
//     app in App. These come first because their user agents can contain the
//     same words as crawlers.
//  3. A link preview (WhatsApp, iMessage, Slack, …) is a Preview.
//  4. A mail gateway named in the user agent is a Scanner.
//  5. A known HTTP tool, headless browser, monitor or crawler is a Bot.
//  6. An agent that does not look like a browser at all (a bare product
//     token, a library's name, a template string) is a Bot.
//  7. Anything else is a Human.
//
// Then, by request rather than user agent: a Human or Bot verdict for a
// request from Microsoft's published Exchange Online addresses becomes a
// Scanner ("microsoft"), since Safe Links opens links with browser user
// agents; and a Human verdict for a HEAD request becomes a Bot, since
// browsers navigate with GET and a HEAD only asks whether the link exists
// (link checkers, unfurlers, curl -I). Previews and scanners keep their
// class whatever the method.
//
// What depends on the user agent and referrer alone is cached; a cached
// lookup does not allocate.
func (c *Classifier) Classify(v Visit) Result {
	return byRequest(v, c.cached(v.UserAgent, v.Referer))
}

// byRequest applies the rules that depend on the request rather than the
// user agent to r, the verdict for v's user agent and referrer.
func byRequest(v Visit, r Result) Result {
	if (r.Class == Human || r.Class == Bot) && fromMicrosoftEOP(v.IP) {
		return Result{Class: Scanner, App: scannerMicrosoft}
	}
	if r.Class == Human && v.Method == "HEAD" {
		return Result{Class: Bot}
	}
	return r
}

// cached returns the verdict for ua and referer from the cache, computing
// and caching it on a miss.
func (c *Classifier) cached(ua, referer string) Result {
	key := c.verdicts.key(ua, referer)
	if r, ok := c.verdicts.get(key); ok {
		return r
	}
	r := c.uncached(ua, referer)
	c.verdicts.put(key, r)
	return r
}

// uncached applies rules 1 to 7 of Classify and, for a Human, tells the
// referrer.
func (c *Classifier) uncached(ua, referer string) Result {
	r := c.classifyUA(ua)
	if r.Class == Human {
		r.Referrer = ClassifyReferrer(referer)
	}
	return r
}

// classifyUA applies rules 1 to 7 of Classify.
func (c *Classifier) classifyUA(ua string) Result {
	// No browser sends an agent this long: a flood of huge random agents
	// must stay cheap.
	if strings.TrimSpace(ua) == "" || len(ua) > maxHumanUA {
		return Result{Class: Bot}
	}
	var buf [maxHumanUA]byte
	v := c.matcher.scan(lowerASCII(buf[:], ua))
	switch {
	case v.inApp != "" && v.engine:
		return Result{Class: Human, App: v.inApp, Device: DeviceOf(ua)}
	case v.preview != "":
		return Result{Class: Preview, App: v.preview}
	case v.scanner != "":
		return Result{Class: Scanner, App: v.scanner}
	case v.bot || !v.browser:
		return Result{Class: Bot}
	}
	return Result{Class: Human, Device: DeviceOf(ua)}
}

var microsoftEOPSet = newPrefixSet(microsoftEOP)

func fromMicrosoftEOP(ip netip.Addr) bool { return microsoftEOPSet.contains(ip) }

// DeviceOf tells the device from a browser's user agent: a tablet (iPad,
// Kindle, Silk, PlayBook, "Tablet", or Android without "Mobile"), a mobile
// (iPhone, iPod, Windows Phone, Opera Mini, BlackBerry, or "Mobile"), and a
// desktop otherwise, including for an empty user agent.
//
// iPadOS 13 and later send the Mac user agent by default, so those iPads
// count as desktops; the user agent alone cannot tell them apart.
func DeviceOf(userAgent string) Device {
	ua := userAgent
	switch {
	case strings.Contains(ua, "iPad"),
		strings.Contains(ua, "Kindle"),
		strings.Contains(ua, "Silk/"),
		strings.Contains(ua, "PlayBook"),
		hasTabletToken(ua):
		return Tablet
	case strings.Contains(ua, "iPhone"),
		strings.Contains(ua, "iPod"),
		strings.Contains(ua, "Windows Phone"),
		strings.Contains(ua, "Opera Mini"),
		strings.Contains(ua, "BlackBerry"),
		strings.Contains(ua, "BB10"),
		strings.Contains(ua, "Mobile"):
		return Mobile
	case strings.Contains(ua, "Android"):
		return Tablet // Android browsers on phones say "Mobile"
	}
	return Desktop
}

// hasTabletToken reports whether ua says "Tablet", other than Windows'
// "Tablet PC", which desktop Internet Explorer sends on touch-capable PCs.
func hasTabletToken(ua string) bool {
	for {
		i := strings.Index(ua, "Tablet")
		if i < 0 {
			return false
		}
		ua = ua[i+len("Tablet"):]
		if !strings.HasPrefix(ua, " PC") {
			return true
		}
	}
}

// PreviewApps returns every App name a Preview can have, in table order,
// ending with "other". The caller owns the slice.
func PreviewApps() []string {
	return appNames(previewRows, "other")
}

// InAppApps returns every App name a Human can have other than "", in table
// order, ending with "other" (which Classify does not return, but which stats
// use as the bucket for anything else). The caller owns the slice.
func InAppApps() []string {
	return appNames(inAppRows, "other")
}

func appNames(rows []uaRow, last string) []string {
	names := make([]string, 0, len(rows)+1)
	for _, r := range rows {
		if r.app != last {
			names = append(names, r.app)
		}
	}
	return append(names, last)
}
