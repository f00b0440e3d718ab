package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store"
	"github.com/darkshare/darkshare/store/storetest"
)

// newCampaignEnv is newTestEnv with a site-wide campaign and landing marker.
func newCampaignEnv(t *testing.T, db *store.DB, campaign link.Campaign, marker bool) *testEnv {
	t.Helper()
	return newEnv(t, db, "https://s.test", envSpec{policy: func(p *link.Policy) { p.Campaign, p.Marker = campaign, marker }})
}

// location follows code and returns where the redirect points.
func (e *testEnv) location(t *testing.T, code string) string {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/"+code, "", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /%s: %d %s, want 302", code, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// patch sends a PATCH as the admin and decodes a 200 answer.
func (e *testEnv) patch(t *testing.T, code, body string) linkInfo {
	t.Helper()
	resp, got := e.do(t, http.MethodPatch, "/api/v1/links/"+code, body, e.bearer())
	var info linkInfo
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(got), &info) != nil {
		t.Fatalf("PATCH %s: %d %s", body, resp.StatusCode, got)
	}
	return info
}

// The README's example: the fragment and any utm_* go at minting, so the
// target is the page without them.
const (
	storyURL    = "https://news.example.org/story?id=42#top"
	storyTarget = "https://news.example.org/story?id=42"
)

func TestRedirectCarriesTheSiteCampaign(t *testing.T) {
	env := newCampaignEnv(t, storetest.MustOpen(t), link.Campaign{Preset: link.PresetUTM, Name: "spring"}, false)
	links := env.mint(t, `{"url":"`+storyURL+`","channels":["email","whatsapp"]}`, nil).Links
	for _, tt := range []struct {
		code, want string
	}{
		{links[0].Code, storyTarget + "&utm_source=email&utm_medium=dark-social&utm_campaign=spring"},
		{links[1].Code, storyTarget + "&utm_source=whatsapp&utm_medium=dark-social&utm_campaign=spring"},
	} {
		if got := env.location(t, tt.code); got != tt.want {
			t.Errorf("Location %q, want %q", got, tt.want)
		}
	}
}

func TestPatchGivesALinkItsOwnCampaign(t *testing.T) {
	db := storetest.MustOpen(t)
	env := newCampaignEnv(t, db, link.Campaign{Preset: link.PresetUTM, Name: "spring"}, false)
	links := env.mint(t, `{"url":"`+storyURL+`","channels":["email","sms"]}`, nil).Links
	code, other := links[0].Code, links[1].Code
	site := storyTarget + "&utm_source=email&utm_medium=dark-social&utm_campaign=spring"

	steps := []struct {
		body string
		want string // Location afterwards
	}{
		{`{"campaign":{"preset":"matomo","name":"autumn"}}`, storyTarget + "&mtm_source=email&mtm_medium=dark-social&mtm_campaign=autumn"},
		{`{"campaign":{"preset":"custom","template":"src={channel}&id={code}"}}`, "https://news.example.org/story?src=email&id=" + code},
		{`{"campaign":{"preset":"none"}}`, storyTarget},
		{`{"campaign":null}`, site},
		{`{"campaign":{"preset":"piano","name":"spring"},"disabled":false}`, storyTarget + "&at_medium=dark-social&at_campaign=spring&at_channel=email"},
	}
	for _, step := range steps {
		info := env.patch(t, code, step.body)
		if info.Destination != step.want {
			t.Errorf("PATCH %s: destination %q, want %q", step.body, info.Destination, step.want)
		}
		if got := env.location(t, code); got != step.want {
			t.Errorf("after PATCH %s: Location %q, want %q", step.body, got, step.want)
		}
	}
	info := env.patch(t, code, `{"campaign":{"preset":"xtor","name":"CS1-42"},"disabled":true}`)
	if !info.Disabled || info.Campaign == nil || *info.Campaign != (link.Campaign{Preset: link.PresetXtor, Name: "CS1-42"}) {
		t.Fatalf("campaign and disabled at once: %+v", info)
	}
	if resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil); resp.StatusCode != http.StatusGone {
		t.Errorf("disabled with a campaign: %d, want 410", resp.StatusCode)
	}
	env.patch(t, code, `{"disabled":false}`) // leaves the campaign as it is
	wantXtor := storyTarget + "&xtor=CS1-42-%5Bemail%5D"
	if got := env.location(t, code); got != wantXtor {
		t.Errorf("re-enabled: Location %q, want %q", got, wantXtor)
	}
	if got, want := env.location(t, other), storyTarget+"&utm_source=sms&utm_medium=dark-social&utm_campaign=spring"; got != want {
		t.Errorf("the other link: Location %q, want %q", got, want)
	}
	// The override is stored: a restart, reading the link from the db,
	// redirects the same way.
	restarted := newCampaignEnv(t, db, link.Campaign{Preset: link.PresetUTM, Name: "spring"}, false)
	if got := restarted.location(t, code); got != wantXtor {
		t.Errorf("after a restart: Location %q, want %q", got, wantXtor)
	}
}

func TestLandingMarker(t *testing.T) {
	for _, tt := range []struct {
		campaign link.Campaign
		want     string // without the code
	}{
		{link.Campaign{}, storyTarget + "&dsl="},
		{link.Campaign{Preset: link.PresetMatomo, Name: "spring"}, storyTarget + "&mtm_source=email&mtm_medium=dark-social&mtm_campaign=spring&dsl="},
	} {
		env := newCampaignEnv(t, storetest.MustOpen(t), tt.campaign, true)
		code := env.mint(t, `{"url":"`+storyURL+`","channels":["email"]}`, nil).Links[0].Code
		if got := env.location(t, code); got != tt.want+code {
			t.Errorf("%s: Location %q, want %q", tt.campaign.Preset, got, tt.want+code)
		}
		// A link without campaign parameters still carries the marker.
		if info := env.patch(t, code, `{"campaign":{"preset":"none"}}`); info.Destination != storyTarget+"&dsl="+code {
			t.Errorf("%s, link set to none: destination %q", tt.campaign.Preset, info.Destination)
		}
	}
}

func TestPatchCampaignRefusals(t *testing.T) {
	env := newCampaignEnv(t, storetest.MustOpen(t), link.Campaign{Preset: link.PresetUTM, Name: "spring"}, false)
	code := env.mint(t, `{"url":"`+storyURL+`","channels":["email"]}`, nil).Links[0].Code
	before := env.location(t, code)
	writer := env.createKey(t, `{"name":"cms","scopes":["links:write","stats:read"]}`)

	tests := []struct {
		body   string
		h      header
		status int
		code   string
	}{
		{`{"campaign":{"preset":"ga4"}}`, env.bearer(), 400, "invalid_campaign"},
		{`{"campaign":{"preset":"custom","template":"a={chanel}"}}`, env.bearer(), 400, "invalid_campaign"},
		{`{"campaign":{"preset":"custom","template":"a=%zz"}}`, env.bearer(), 400, "invalid_campaign"},
		{`{"campaign":{"preset":"xtor","name":"spring"}}`, env.bearer(), 400, "invalid_campaign"},
		{`{"campaign":{"preset":"none","name":"spring"}}`, env.bearer(), 400, "invalid_campaign"},
		// Nothing is written when one part of the request is wrong.
		{`{"campaign":{"preset":"ga4"},"disabled":true}`, env.bearer(), 400, "invalid_campaign"},
		{`{"campaign":{"preset":"matomo"},"disabled":"yes"}`, env.bearer(), 400, "bad_request"},
		{`{"campaign":{"preset":"utm","nmae":"x"}}`, env.bearer(), 400, "bad_request"},
		{`{"campaign":"utm"}`, env.bearer(), 400, "bad_request"},
		{`{"campaign":{"preset":"utm"}`, env.bearer(), 400, "bad_request"},
		{`{}`, env.bearer(), 400, "bad_request"},
		// Only admins may change a link.
		{`{"campaign":{"preset":"none"}}`, nil, 401, "unauthorized"},
		{`{"campaign":{"preset":"none"}}`, bearer(writer.Key), 403, "forbidden"},
		{`{"campaign":{"preset":"none"}}`, bearer("dsk_not-a-key"), 401, "unauthorized"},
	}
	for i, tt := range tests {
		// Each from its own address: failures are rate-limited per address.
		h := header{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
		maps.Copy(h, tt.h)
		resp, body := env.do(t, http.MethodPatch, "/api/v1/links/"+code, tt.body, h)
		var got errorResult
		if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != tt.status || got.Error.Code != tt.code || got.Error.Message == "" {
			t.Errorf("PATCH %s: %d %s; want %d with error code %q and a message", tt.body, resp.StatusCode, body, tt.status, tt.code)
		}
	}
	stored, err := env.db.Get(context.Background(), code)
	if err != nil || stored.Campaign != nil || stored.Disabled {
		t.Errorf("stored after refusals: %+v, %v; want no campaign, enabled", stored, err)
	}
	if got := env.location(t, code); got != before {
		t.Errorf("Location after refusals %q, want %q", got, before)
	}
	if resp, _ := env.do(t, http.MethodPatch, "/api/v1/links/nosuchcode", `{"campaign":{"preset":"utm"}}`, env.bearer()); resp.StatusCode != 404 {
		t.Errorf("unknown code: %d, want 404", resp.StatusCode)
	}
	if !strings.Contains(before, "utm_campaign=spring") {
		t.Errorf("site campaign not applied: %q", before)
	}
}
