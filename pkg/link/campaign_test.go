package link_test

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

// The README's example: a story shared by email, campaign "spring".
const (
	exampleTarget = "https://news.example.org/story?id=42#top"
	exampleCode   = "0lGnLyG_f"
)

// Each preset against the parameter names its tool documents, and the exact
// URL the README shows.
func TestCampaignPresetsUseEachToolsNames(t *testing.T) {
	tests := []struct {
		campaign link.Campaign
		// documented are the tool's names, from its documentation, and
		// the values it then reports.
		documented map[string]string
		want       string
	}{
		{
			campaign:   link.Campaign{Preset: link.PresetNone},
			documented: map[string]string{},
			want:       exampleTarget,
		},
		{
			// Google Analytics 4, "URL builders: Collect campaign data with
			// custom URLs": https://support.google.com/analytics/answer/10917952
			// (utm_source: referrer, utm_medium: marketing medium,
			// utm_campaign: product, slogan, promo code).
			campaign:   link.Campaign{Preset: link.PresetUTM, Name: "spring"},
			documented: map[string]string{"utm_source": "email", "utm_medium": "dark-social", "utm_campaign": "spring"},
			want:       "https://news.example.org/story?id=42&utm_source=email&utm_medium=dark-social&utm_campaign=spring#top",
		},
		{
			// Matomo, "Campaign Tracking URL Structure":
			// https://matomo.org/faq/reports/advanced-how-to-manually-build-campaign-tracking-urls
			// and the Marketing Campaigns Reporting plugin's README,
			// https://github.com/matomo-org/plugin-MarketingCampaignsReporting
			// (mtm_campaign, mtm_source, mtm_medium; pk_ names are kept
			// only for backwards compatibility: https://matomo.org/faq/how-to/faq_120).
			campaign:   link.Campaign{Preset: link.PresetMatomo, Name: "spring"},
			documented: map[string]string{"mtm_source": "email", "mtm_medium": "dark-social", "mtm_campaign": "spring"},
			want:       "https://news.example.org/story?id=42&mtm_source=email&mtm_medium=dark-social&mtm_campaign=spring#top",
		},
		{
			// Piwik PRO keeps Piwik's pk_ prefix ("PK parameters, used only
			// in Piwik PRO": https://piwik.pro/glossary/campaign-tracking):
			// pk_campaign, pk_source, pk_medium.
			campaign:   link.Campaign{Preset: link.PresetPiwikPro, Name: "spring"},
			documented: map[string]string{"pk_source": "email", "pk_medium": "dark-social", "pk_campaign": "spring"},
			want:       "https://news.example.org/story?id=42&pk_source=email&pk_medium=dark-social&pk_campaign=spring#top",
		},
		{
			// Piano Analytics, "Marketing campaigns":
			// https://developers.atinternet-solutions.com/piano-analytics/data-collection/how-to-send-events/marketing-campaigns
			// at_medium and at_campaign are mandatory; any other at_* becomes
			// a src_* property (here src_channel). xtor is not read there.
			campaign:   link.Campaign{Preset: link.PresetPiano, Name: "spring"},
			documented: map[string]string{"at_medium": "dark-social", "at_campaign": "spring", "at_channel": "email"},
			want:       "https://news.example.org/story?id=42&at_medium=dark-social&at_campaign=spring&at_channel=email#top",
		},
		{
			// AT Internet Analytics Suite 2, custom marketing source:
			// xtor=A-B-C-… with A = CS<source ID>, B = the campaign's numeric
			// ID, both mandatory, C to F optional labels:
			// https://helpcentre.atinternet-solutions.com/hc/en-gb/articles/360001027319-What-is-a-custom-marketing-source-
			// Labels are written [label]:
			// https://helpcentre.atinternet-solutions.com/hc/en-gb/articles/207319350-Measure-openings
			campaign:   link.Campaign{Preset: link.PresetXtor, Name: "CS1-42"},
			documented: map[string]string{"xtor": "CS1-42-[email]"},
			want:       "https://news.example.org/story?id=42&xtor=CS1-42-%5Bemail%5D#top",
		},
		{
			campaign:   link.Campaign{Preset: link.PresetCustom, Name: "spring", Template: "src={channel}&med=dark-social&camp={campaign}&id={code}"},
			documented: map[string]string{"src": "email", "med": "dark-social", "camp": "spring", "id": exampleCode},
			// The target's own id=42 gives way to the template's id.
			want: "https://news.example.org/story?src=email&med=dark-social&camp=spring&id=0lGnLyG_f#top",
		},
	}
	for _, tt := range tests {
		t.Run(string(tt.campaign.Preset), func(t *testing.T) {
			c, err := link.ParseCampaign(tt.campaign)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Destination(exampleTarget, link.Email, exampleCode, false)
			if err != nil || got != tt.want {
				t.Fatalf("Destination = %q, %v\nwant          %q", got, err, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			added := u.Query()
			if tt.campaign.Preset != link.PresetCustom {
				if added.Get("id") != "42" {
					t.Errorf("the target's id=42 is lost: %q", got)
				}
				added.Del("id")
			}
			if names := slices.Sorted(maps.Keys(added)); !slices.Equal(names, slices.Sorted(maps.Keys(tt.documented))) {
				t.Errorf("adds %v, want exactly the documented %v", names, slices.Sorted(maps.Keys(tt.documented)))
			}
			for name, want := range tt.documented {
				if got := added[name]; len(got) != 1 || got[0] != want {
					t.Errorf("%s = %q, want one %q", name, got, want)
				}
			}
			if u.Fragment != "top" {
				t.Errorf("fragment %q, want top", u.Fragment)
			}
		})
	}
}

func TestNewServiceRefusesABadCampaign(t *testing.T) {
	_, err := link.NewService(storetest.MustOpen(t), link.Policy{BaseURL: "https://s.test", Campaign: link.Campaign{Preset: link.PresetCustom}})
	if !errors.Is(err, link.ErrInvalidCampaign) {
		t.Fatalf("NewService: %v, want ErrInvalidCampaign", err)
	}
}

// The destination is built when a route is, so a redirect still costs a map
// lookup and no allocation; without campaign or marker it is the target.
func TestRouteCarriesTheDestination(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		policy link.Policy
		want   string // before the code
	}{
		{link.Policy{}, "https://a.example/p?x=1"},
		{link.Policy{Campaign: link.Campaign{Preset: link.PresetUTM, Name: "spring"}, Marker: true},
			"https://a.example/p?x=1&utm_source=email&utm_medium=dark-social&utm_campaign=spring&dsl="},
	} {
		tt.policy.BaseURL = "http://127.0.0.1:8080"
		s, err := link.NewService(storetest.MustOpen(t), tt.policy)
		if err != nil {
			t.Fatal(err)
		}
		_, links, err := s.Mint(ctx, link.MintRequest{URL: "https://a.example/p?x=1&utm_source=newsletter", Channels: []string{"email"}, Trusted: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadRoutes(ctx); err != nil {
			t.Fatal(err)
		}
		code := links[0].Code
		want := tt.want
		if tt.policy.Marker {
			want += code
		}
		r, err := s.Route(ctx, code)
		if err != nil || r.Dest != want || r.URL != "https://a.example/p?x=1" || s.Destination(links[0]) != want {
			t.Errorf("%+v: Route = %+v, %v; Destination %q; want Dest %q", tt.policy.Campaign, r, err, s.Destination(links[0]), want)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = s.Route(ctx, code) }); n != 0 {
			t.Errorf("%+v: Route allocates %.0f times, want none", tt.policy.Campaign, n)
		}
	}
}

func TestCampaignNameDefaults(t *testing.T) {
	got, err := link.Campaign{Preset: link.PresetUTM}.Destination("https://a.example/", link.WhatsApp, "c", false)
	if want := "https://a.example/?utm_source=whatsapp&utm_medium=dark-social&utm_campaign=darkshare"; err != nil || got != want {
		t.Errorf("no name: %q, %v; want %q", got, err, want)
	}
}

func TestCampaignDestination(t *testing.T) {
	utm := link.Campaign{Preset: link.PresetUTM, Name: "spring"}
	tests := []struct {
		name     string
		campaign link.Campaign
		target   string
		marker   bool
		want     string
	}{
		{"ours replace, not duplicate", utm,
			"https://a.example/p?utm_source=old&x=1&utm_medium=a&utm_medium=b&utm_campaign=c",
			false, "https://a.example/p?x=1&utm_source=email&utm_medium=dark-social&utm_campaign=spring"},
		{"an escaped name of ours is ours", utm,
			"https://a.example/p?utm%5Fsource=old&x=1",
			false, "https://a.example/p?x=1&utm_source=email&utm_medium=dark-social&utm_campaign=spring"},
		{"other pairs keep order and encoding", utm,
			"https://a.example/p?b=2&a=%7e&c&d=x+y&e=%20",
			false, "https://a.example/p?b=2&a=%7e&c&d=x+y&e=%20&utm_source=email&utm_medium=dark-social&utm_campaign=spring"},
		{"values are escaped", link.Campaign{Preset: link.PresetMatomo, Name: "Spring sale & co #1 été"},
			"https://a.example/",
			false, "https://a.example/?mtm_source=email&mtm_medium=dark-social&mtm_campaign=Spring+sale+%26+co+%231+%C3%A9t%C3%A9"},
		{"a name is not a template", link.Campaign{Preset: link.PresetCustom, Name: "{code}", Template: "c={campaign}"},
			"https://a.example/",
			false, "https://a.example/?c=%7Bcode%7D"},
		{"marker alone", link.Campaign{},
			"https://a.example/p?q=1#frag",
			true, "https://a.example/p?q=1&dsl=0lGnLyG_f#frag"},
		{"marker replaces a stale one", utm,
			"https://a.example/p?dsl=old",
			true, "https://a.example/p?utm_source=email&utm_medium=dark-social&utm_campaign=spring&dsl=0lGnLyG_f"},
		{"none and no marker: the target as is", link.Campaign{Preset: link.PresetNone},
			"https://a.example/p?utm_source=x&&a=b#f",
			false, "https://a.example/p?utm_source=x&&a=b#f"},
		{"escaped path and fragment survive", utm,
			"https://a.example/a%2Fb/c%20d?#x%20y",
			false, "https://a.example/a%2Fb/c%20d?utm_source=email&utm_medium=dark-social&utm_campaign=spring#x%20y"},
		{"custom names are escaped", link.Campaign{Preset: link.PresetCustom, Template: "a%20b={channel}&%C3%A9=1"},
			"https://a.example/",
			false, "https://a.example/?a+b=email&%C3%A9=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.campaign.Destination(tt.target, link.Email, exampleCode, tt.marker)
			if err != nil || got != tt.want {
				t.Errorf("Destination(%q)\n = %q, %v\nwant %q", tt.target, got, err, tt.want)
			}
		})
	}
	if _, err := utm.Destination("not a url", link.Email, "c", false); !errors.Is(err, link.ErrInvalidURL) {
		t.Errorf("relative target: %v, want ErrInvalidURL", err)
	}
}

func TestParseCampaign(t *testing.T) {
	valid := []struct {
		in, want link.Campaign
	}{
		{link.Campaign{}, link.Campaign{Preset: link.PresetNone}},
		{link.Campaign{Preset: " UTM ", Name: " spring "}, link.Campaign{Preset: link.PresetUTM, Name: "spring"}},
		{link.Campaign{Preset: "PiwikPro"}, link.Campaign{Preset: link.PresetPiwikPro}},
		{link.Campaign{Preset: "xtor", Name: "CS12-3456"}, link.Campaign{Preset: link.PresetXtor, Name: "CS12-3456"}},
		{link.Campaign{Preset: "custom", Template: "a={channel}&&b=x{code}y"}, link.Campaign{Preset: link.PresetCustom, Template: "a={channel}&&b=x{code}y"}},
		{link.Campaign{Preset: "custom", Template: "flag"}, link.Campaign{Preset: link.PresetCustom, Template: "flag"}},
	}
	for _, tt := range valid {
		if got, err := link.ParseCampaign(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseCampaign(%+v) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	invalid := []struct {
		in   link.Campaign
		says string
	}{
		{link.Campaign{Preset: "ga4"}, `unknown preset "ga4"`},
		{link.Campaign{Preset: "none", Name: "spring"}, "takes no name"},
		{link.Campaign{Preset: "utm", Template: "a=b"}, "only for the custom preset"},
		{link.Campaign{Preset: "utm", Name: strings.Repeat("x", 101)}, "longer than"},
		{link.Campaign{Preset: "utm", Name: "a\nb"}, "control characters"},
		{link.Campaign{Preset: "utm", Name: "\xff"}, "control characters"},
		{link.Campaign{Preset: "xtor"}, "CS1-42"},
		{link.Campaign{Preset: "xtor", Name: "CS1-42-[x]"}, "CS1-42"},
		{link.Campaign{Preset: "custom"}, "needs a template"},
		{link.Campaign{Preset: "custom", Template: "a=%zz"}, "not a query string"},
		{link.Campaign{Preset: "custom", Template: "a=1;b=2"}, "not a query string"},
		{link.Campaign{Preset: "custom", Template: "=x"}, "no name"},
		{link.Campaign{Preset: "custom", Template: "&&"}, "no name=value pair"},
		{link.Campaign{Preset: "custom", Template: "{channel}=x"}, "not in the name"},
		{link.Campaign{Preset: "custom", Template: "a=1&a=2"}, "twice"},
		{link.Campaign{Preset: "custom", Template: "dsl={code}"}, "landing marker"},
		{link.Campaign{Preset: "custom", Template: "a={chanel}"}, "unknown placeholder {chanel}"},
		{link.Campaign{Preset: "custom", Template: "a={Channel}"}, "unknown placeholder"},
		{link.Campaign{Preset: "custom", Template: "a={channel"}, "unmatched brace"},
		{link.Campaign{Preset: "custom", Template: "a=x}"}, "unmatched brace"},
		{link.Campaign{Preset: "custom", Template: "a=%7Bcode"}, "unmatched brace"},
		{link.Campaign{Preset: "custom", Template: strings.Repeat("a", 1025)}, "longer than"},
		{link.Campaign{Preset: "custom", Template: manyPairs(21)}, "more than 20"},
	}
	for _, tt := range invalid {
		_, err := link.ParseCampaign(tt.in)
		if !errors.Is(err, link.ErrInvalidCampaign) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseCampaign(%+v) = %v; want ErrInvalidCampaign saying %q", tt.in, err, tt.says)
		}
	}
}

func manyPairs(n int) string {
	pairs := make([]string, n)
	for i := range pairs {
		pairs[i] = "p" + strings.Repeat("x", i) + "=1"
	}
	return strings.Join(pairs, "&")
}
