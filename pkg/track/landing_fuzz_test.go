package track

import (
	"strings"
	"testing"
)

// FuzzClassifyView checks the landing rules against what the referrer and
// user-agent classifiers say on their own, for any input.
func FuzzClassifyView(f *testing.F) {
	for _, tt := range viewCases {
		f.Add(tt.v.Page, tt.v.Kind, tt.v.Referrer, tt.v.UserAgent, tt.v.Marker)
	}
	f.Add("https://\xff/%zz", "website", "https://[::1/", safariIPhone, false)
	f.Add("", "", "//news.example.org/", safariIPhone, false)
	c := NewClassifier()
	f.Fuzz(func(t *testing.T, page, kind, referrer, ua string, marker bool) {
		v := View{Page: page, Kind: kind, Referrer: referrer, UserAgent: ua, Marker: marker}
		l, ok := c.ClassifyView(v)
		r := c.Classify(Visit{UserAgent: ua, Referer: referrer})
		if ok != (r.Class == Human) {
			t.Fatalf("ClassifyView(%+v) ok=%v, but Classify says %s", v, ok, r.Class)
		}
		if !ok {
			return
		}
		if l > LandingInternal {
			t.Fatalf("ClassifyView(%+v) = %d, out of range", v, l)
		}
		if marker != (l == LandingShortLink) {
			t.Fatalf("ClassifyView(%+v) = %s with marker %v", v, l, marker)
		}
		blank := strings.TrimSpace(referrer) == ""
		if blank && l != LandingShortLink && l != LandingDarkSocial && l != LandingDirectHome {
			t.Fatalf("ClassifyView(%+v) = %s without a referrer", v, l)
		}
		if l == LandingDirectHome && r.App != "" {
			t.Fatalf("ClassifyView(%+v) = %s in the in-app browser of %s", v, l, r.App)
		}
		if marker || l == LandingInternal {
			return
		}
		want := map[Referrer]Landing{RefWebmail: LandingDarkSocial, RefMessenger: LandingDarkSocial,
			RefSocial: LandingSocial, RefSearch: LandingSearch, RefOther: LandingReferral}
		if w, found := want[ClassifyReferrer(referrer)]; found && l != w {
			t.Fatalf("ClassifyView(%+v) = %s, but the referrer is %s", v, l, ClassifyReferrer(referrer))
		}
	})
}
