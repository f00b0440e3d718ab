package track

import (
	"net/netip"
	"testing"
)

// In-app browsers' user agents, as in classify_test.go's cases.
const (
	instagramIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 10_2 like Mac OS X) AppleWebKit/602.3.12 (KHTML, like Gecko) Mobile/14C92 Instagram 10.7.0 (iPhone9,3; iOS 10_2; en_GB; en-GB; scale=2.00; gamut=wide; 750x1334)"
	messengerIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0_3 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Mobile/15A432 [FBAN/MessengerForiOS;FBAV/147.0.0.50.87;FBBV/84235609;FBDV/iPhone8,4;FBMD/iPhone;FBSN/iOS;FBSV/11.0.3;FBSS/2;FBID/phone;FBLC/zh_TW;FBOP/5;FBRV/0]"
	facebookIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60 [FBAN/FBIOS;FBAV/147.0.0.46.81;FBBV/76961488;FBDV/iPhone5,2;FBMD/iPhone;FBSN/iOS;FBSV/10.3.3;FBSS/2;FBID/phone;FBLC/en_US;FBOP/5]"
)

const (
	home    = "https://news.example.org/"
	section = "https://news.example.org/sport/"
	deep    = "https://news.example.org/2026/05/rates-rise-again"
)

var viewCases = []struct {
	name string
	v    View
	want Landing
	bot  bool // not a view at all
}{
	// The marker wins over everything the request says.
	{name: "marker, no referrer", v: View{Page: deep, Marker: true}, want: LandingShortLink},
	{name: "marker on the home page", v: View{Page: home, Marker: true}, want: LandingShortLink},
	{name: "marker with a webmail referrer", v: View{Page: deep, Referrer: "https://mail.google.com/", Marker: true}, want: LandingShortLink},
	{name: "marker with a same-site referrer", v: View{Page: deep, Referrer: home, Marker: true}, want: LandingShortLink},
	{name: "marker in an in-app browser", v: View{Page: home, UserAgent: instagramIPhone, Marker: true}, want: LandingShortLink},

	// Dark social: webmail and messengers' web apps, whatever the page.
	{name: "Gmail", v: View{Page: deep, Referrer: "https://mail.google.com/mail/u/0/"}, want: LandingDarkSocial},
	{name: "Gmail to the home page", v: View{Page: home, Referrer: "https://mail.google.com/"}, want: LandingDarkSocial},
	{name: "Outlook on the web", v: View{Page: section, Referrer: "https://outlook.live.com/"}, want: LandingDarkSocial},
	{name: "Gmail app on Android", v: View{Page: deep, Referrer: "android-app://com.google.android.gm/"}, want: LandingDarkSocial},
	{name: "WhatsApp Web", v: View{Page: deep, Referrer: "https://web.whatsapp.com/"}, want: LandingDarkSocial},
	{name: "Messenger's link shim", v: View{Page: home, Referrer: "https://l.messenger.com/"}, want: LandingDarkSocial},
	{name: "Slack", v: View{Page: deep, Referrer: "https://app.slack.com/client/T0/C0"}, want: LandingDarkSocial},
	{name: "Telegram Web", v: View{Page: deep, Referrer: "https://web.telegram.org/"}, want: LandingDarkSocial},

	// Dark social: no referrer on a deep page.
	{name: "no referrer, dated path", v: View{Page: deep}, want: LandingDarkSocial},
	{name: "no referrer, slug with a dash", v: View{Page: "https://news.example.org/rates-rise"}, want: LandingDarkSocial},
	{name: "no referrer, word with a digit", v: View{Page: "https://news.example.org/covid19"}, want: LandingDarkSocial},
	{name: "no referrer, file", v: View{Page: "https://news.example.org/story.html"}, want: LandingDarkSocial},
	{name: "no referrer, query page", v: View{Page: "https://news.example.org/story?id=42"}, want: LandingDarkSocial},
	{name: "no referrer, WordPress plain link", v: View{Page: "https://news.example.org/?p=123"}, want: LandingDarkSocial},
	{name: "no referrer, section with a query", v: View{Page: "https://news.example.org/news?page=2"}, want: LandingDarkSocial},
	{name: "no referrer, two words", v: View{Page: "https://news.example.org/sport/football"}, want: LandingDarkSocial},
	{name: "no referrer, word too long", v: View{Page: "https://news.example.org/internationalisationnews"}, want: LandingDarkSocial},
	{name: "no referrer, blank referrer", v: View{Page: deep, Referrer: "  "}, want: LandingDarkSocial},

	// Dark social: an in-app browser with no referrer, even on a front.
	{name: "Instagram, deep page", v: View{Page: deep, UserAgent: instagramIPhone}, want: LandingDarkSocial},
	{name: "Instagram, home page", v: View{Page: home, UserAgent: instagramIPhone}, want: LandingDarkSocial},
	{name: "Messenger, section front", v: View{Page: section, UserAgent: messengerIPhone}, want: LandingDarkSocial},
	{name: "Facebook, og:type website", v: View{Page: home, Kind: "website", UserAgent: facebookIPhone}, want: LandingDarkSocial},

	// og:type first, then the path.
	{name: "og:type article on the home path", v: View{Page: home, Kind: "article"}, want: LandingDarkSocial},
	{name: "og:type ARTICLE, any case", v: View{Page: section, Kind: " ARTICLE "}, want: LandingDarkSocial},
	{name: "og:type website on a deep path", v: View{Page: deep, Kind: "website"}, want: LandingDirectHome},
	{name: "og:type video.movie: the path decides", v: View{Page: deep, Kind: "video.movie"}, want: LandingDarkSocial},
	{name: "og:type product on a front: the path decides", v: View{Page: section, Kind: "product"}, want: LandingDirectHome},

	// Direct to a front: the home page or a section front.
	{name: "home", v: View{Page: home}, want: LandingDirectHome},
	{name: "home, index.html", v: View{Page: "https://news.example.org/index.html"}, want: LandingDirectHome},
	{name: "home, index.php", v: View{Page: "https://news.example.org/index.php"}, want: LandingDirectHome},
	{name: "home, default.aspx", v: View{Page: "https://news.example.org/Default.aspx"}, want: LandingDirectHome},
	{name: "section with a slash", v: View{Page: section}, want: LandingDirectHome},
	{name: "section without", v: View{Page: "https://news.example.org/news"}, want: LandingDirectHome},
	{name: "section, index file", v: View{Page: "https://news.example.org/news/index.html"}, want: LandingDirectHome},
	{name: "section in another script", v: View{Page: "https://news.example.org/%C3%A9conomie"}, want: LandingDirectHome},
	{name: "og:type website", v: View{Page: home, Kind: "website"}, want: LandingDirectHome},
	{name: "desktop browser at home", v: View{Page: home, UserAgent: chromeWindows}, want: LandingDirectHome},

	// Visible sources.
	{name: "Facebook feed", v: View{Page: deep, Referrer: "https://l.facebook.com/"}, want: LandingSocial},
	{name: "X", v: View{Page: home, Referrer: "https://t.co/abc"}, want: LandingSocial},
	{name: "Facebook in-app with the feed as referrer", v: View{Page: deep, Referrer: "http://m.facebook.com/", UserAgent: facebookIPhone}, want: LandingSocial},
	{name: "Google", v: View{Page: deep, Referrer: "https://www.google.com/"}, want: LandingSearch},
	{name: "Google UK", v: View{Page: home, Referrer: "https://www.google.co.uk/"}, want: LandingSearch},
	{name: "Bing", v: View{Page: deep, Referrer: "https://www.bing.com/search?q=x"}, want: LandingSearch},
	{name: "another site", v: View{Page: deep, Referrer: "https://blog.other.example/post"}, want: LandingReferral},
	{name: "another site, to the home page", v: View{Page: home, Referrer: "https://other.example/"}, want: LandingReferral},
	{name: "another site, in an in-app browser", v: View{Page: deep, Referrer: "https://linktr.ee/someone", UserAgent: instagramIPhone}, want: LandingReferral},
	{name: "malformed referrer", v: View{Page: deep, Referrer: "not a url"}, want: LandingReferral},
	{name: "another IP on the same network", v: View{Page: "http://10.0.0.1/a-b", Referrer: "http://10.0.0.2/"}, want: LandingReferral},

	// Internal: the same site.
	{name: "same host", v: View{Page: deep, Referrer: home}, want: LandingInternal},
	{name: "same host, other case and a dot", v: View{Page: deep, Referrer: "https://NEWS.example.org./sport/"}, want: LandingInternal},
	{name: "same host, other port", v: View{Page: deep, Referrer: "http://news.example.org:8080/"}, want: LandingInternal},
	{name: "same site, other subdomain", v: View{Page: deep, Referrer: "https://www.example.org/"}, want: LandingInternal},
	{name: "same site, the bare domain", v: View{Page: "https://www.example.co.uk/a-b", Referrer: "https://example.co.uk/"}, want: LandingInternal},
	{name: "same IP", v: View{Page: "http://127.0.0.1:8081/x-y", Referrer: "http://127.0.0.1:8081/"}, want: LandingInternal},
	{name: "same site in an in-app browser", v: View{Page: home, Referrer: deep, UserAgent: instagramIPhone}, want: LandingInternal},
	{name: "not the same site: a public suffix apart", v: View{Page: "https://alice.github.io/a-b", Referrer: "https://bob.github.io/"}, want: LandingReferral},
	{name: "not the same site: a sibling TLD", v: View{Page: deep, Referrer: "https://news.example.com/"}, want: LandingReferral},
	{name: "not the same site: a look-alike", v: View{Page: deep, Referrer: "https://news.example.org.evil.test/"}, want: LandingReferral},
	{name: "not the same site: the page's host in the path", v: View{Page: deep, Referrer: "https://other.example/news.example.org/"}, want: LandingReferral},

	// Not views.
	{name: "curl", v: View{Page: deep, UserAgent: "curl/8.5.0"}, bot: true},
	{name: "Googlebot", v: View{Page: deep, UserAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, bot: true},
	{name: "WhatsApp preview", v: View{Page: deep, UserAgent: "WhatsApp/2.23.20.0 A"}, bot: true},
	{name: "headless Chrome", v: View{Page: deep, UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"}, bot: true},
	{name: "empty agent", v: View{Page: deep, UserAgent: "-"}, bot: true},
	{name: "Safe Links", v: View{Page: deep, IP: netip.MustParseAddr(eopIP)}, bot: true},
}

func TestClassifyView(t *testing.T) {
	c := sharedClassifier()
	for _, tt := range viewCases {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if v.UserAgent == "" {
				v.UserAgent = safariIPhone
			} else if v.UserAgent == "-" {
				v.UserAgent = ""
			}
			got, ok := c.ClassifyView(v)
			switch {
			case tt.bot && ok:
				t.Errorf("ClassifyView(%+v) = %s, want no view", v, got)
			case !tt.bot && !ok:
				t.Errorf("ClassifyView(%+v): no view, want %s", v, tt.want)
			case !tt.bot && got != tt.want:
				t.Errorf("ClassifyView(%+v) = %s, want %s", v, got, tt.want)
			}
		})
	}
}

// TestViewCasesCoverEveryClass keeps the table honest: each class is the
// answer of some case.
func TestViewCasesCoverEveryClass(t *testing.T) {
	seen := map[Landing]bool{}
	for _, tt := range viewCases {
		if !tt.bot {
			seen[tt.want] = true
		}
	}
	for l := range LandingInternal + 1 {
		if !seen[l] {
			t.Errorf("no case answers %s", l)
		}
	}
}

func TestLandingNames(t *testing.T) {
	want := []string{"short-link", "dark-social", "social", "search", "referral", "direct-home", "internal"}
	for l := range LandingInternal + 1 {
		if l.String() != want[l] {
			t.Errorf("Landing(%d) = %q, want %q", l, l, want[l])
		}
		if dark := l == LandingShortLink || l == LandingDarkSocial; l.Dark() != dark {
			t.Errorf("%s.Dark() = %v", l, l.Dark())
		}
	}
	if s := (LandingInternal + 1).String(); s != "unknown" {
		t.Errorf("out of range: %q", s)
	}
}
