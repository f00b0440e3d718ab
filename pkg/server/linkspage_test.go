package server

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/store/storetest"
)

// linksAdmin logs in through the form and returns the session cookie
// ("name=value") to send with requests.
func linksAdmin(t *testing.T, env *testEnv) string {
	t.Helper()
	resp, _ := env.do(t, http.MethodPost, "/login", "token="+url.QueryEscape(env.token)+"&"+env.csrfForm(t),
		header{"Content-Type": "application/x-www-form-urlencoded"})
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("login: %d and no session cookie", resp.StatusCode)
	return ""
}

// linksPageView is what a test reads off the links page.
type linksPageView struct {
	body  string
	codes []string // rows, in order
	csrf  string   // the forms' field
	back  string
	next  string // the Next page link, unescaped; "" if none
}

var (
	linksRowRE  = regexp.MustCompile(`<tr id="link-([^"]+)"`)
	linksCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	linksBackRE = regexp.MustCompile(`name="back" value="([^"]*)"`)
	linksNextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)
)

// linksGet opens path (the links page) as the admin of session and fails
// the test unless it answers 200.
func linksGet(t *testing.T, env *testEnv, session, path string) linksPageView {
	t.Helper()
	resp, body := env.do(t, http.MethodGet, path, "", header{"Cookie": session})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	v := linksPageView{body: body}
	for _, m := range linksRowRE.FindAllStringSubmatch(body, -1) {
		v.codes = append(v.codes, m[1])
	}
	if m := linksCSRFRE.FindStringSubmatch(body); m != nil {
		v.csrf = html.UnescapeString(m[1])
	}
	if m := linksBackRE.FindStringSubmatch(body); m != nil {
		v.back = html.UnescapeString(m[1])
	}
	if m := linksNextRE.FindStringSubmatch(body); m != nil {
		v.next = html.UnescapeString(m[1])
	}
	return v
}

// linksFixture mints five pages' links as the admin and returns the codes
// by "host path channel", e.g. "b.example.com /x email".
func linksFixture(t *testing.T, env *testEnv) map[string]string {
	t.Helper()
	codes := map[string]string{}
	for _, u := range []string{"https://c.example.com/x", "https://a.example.com/x", "https://news.example.org/Story-1", "https://b.example.com/x", "https://news.example.org/story-2"} {
		for _, l := range env.mint(t, `{"url":"`+u+`","channels":["email","sms"]}`, env.bearer()).Links {
			codes[strings.TrimPrefix(u, "https://")+" "+string(l.Channel)] = l.Code
		}
	}
	return codes
}

func TestLinksPageNeedsTheAdmin(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	for _, h := range []header{nil, {"Cookie": sessionCookie + "=forged"}} {
		resp, _ := env.do(t, http.MethodGet, "/links?q=story", "", h)
		if want := "/login?next=" + url.QueryEscape("/links?q=story"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET /links with %v: %d to %q, want 303 to %q", h, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if resp, _ := env.do(t, http.MethodGet, "/links", "", header{"Authorization": "Bearer wrong"}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /links with a wrong token: %d, want 401", resp.StatusCode)
	}
	if resp, _ := env.do(t, http.MethodGet, "/links", "", env.bearer()); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /links with the admin token: %d, want 200", resp.StatusCode)
	}
}

func TestLinksPageListsSearchesAndFilters(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	if v := linksGet(t, env, session, "/links"); len(v.codes) != 0 || !strings.Contains(v.body, "No links yet") {
		t.Errorf("empty db: rows %v; want the empty state", v.codes)
	}
	codes := linksFixture(t, env)
	c := func(keys ...string) string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = codes[k]
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		path string
		want string
	}{
		{"/links", c("a.example.com/x email", "a.example.com/x sms", "b.example.com/x email", "b.example.com/x sms",
			"c.example.com/x email", "c.example.com/x sms", "news.example.org/Story-1 email", "news.example.org/Story-1 sms",
			"news.example.org/story-2 email", "news.example.org/story-2 sms")},
		{"/links?q=STORY", c("news.example.org/Story-1 email", "news.example.org/Story-1 sms", "news.example.org/story-2 email", "news.example.org/story-2 sms")},
		{"/links?channel=sms", c("a.example.com/x sms", "b.example.com/x sms", "c.example.com/x sms", "news.example.org/Story-1 sms", "news.example.org/story-2 sms")},
		{"/links?q=example.com&channel=EMAIL", c("a.example.com/x email", "b.example.com/x email", "c.example.com/x email")},
		{"/links?q=nowhere", ""},
	}
	for _, tt := range tests {
		v := linksGet(t, env, session, tt.path)
		if got := strings.Join(v.codes, " "); got != tt.want {
			t.Errorf("%s: rows %q, want %q", tt.path, got, tt.want)
		}
	}
	v := linksGet(t, env, session, "/links?q=nowhere&channel=qr")
	for _, want := range []string{"No links match “nowhere” in the qr channel", `<option value="qr" selected>`, `value="nowhere"`} {
		if !strings.Contains(v.body, want) {
			t.Errorf("a search with no match: page lacks %q", want)
		}
	}
	v = linksGet(t, env, session, "/links?q=story-1")
	l := codes["news.example.org/Story-1 email"]
	for _, want := range []string{
		`<code class="short"><span class="scheme">https://</span>s.test/` + l + `</code>`,
		`data-copy="https://s.test/` + l + `"`,
		`href="https://news.example.org/Story-1"`,
		`<a href="/stats/` + l + `" class="stats">`,
		`<td class="status">Active</td>`,
		`action="/links/` + l + `/disabled"`,
		`name="disabled" value="true"`,
	} {
		if !strings.Contains(v.body, want) {
			t.Errorf("row of %s lacks %q", l, want)
		}
	}
	if v.back != "/links?q=story-1" {
		t.Errorf("back = %q, want the page's own URL", v.back)
	}
}

func TestLinksPagePaginates(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	codes := linksFixture(t, env)
	all := linksGet(t, env, session, "/links").codes
	if len(all) != len(codes) {
		t.Fatalf("%d rows, want %d", len(all), len(codes))
	}
	var got []string
	path := "/links?limit=3"
	for pages := 1; ; pages++ {
		v := linksGet(t, env, session, path)
		got = append(got, v.codes...)
		if pages > 1 && !strings.Contains(v.body, `<a href="/links?limit=3">First page</a>`) {
			t.Errorf("page %d has no link to the first page", pages)
		}
		if v.next == "" {
			if pages != 4 {
				t.Errorf("%d pages of 3 for %d links, want 4", pages, len(all))
			}
			break
		}
		if u, err := url.Parse(v.next); err != nil || u.Query().Get("limit") != "3" {
			t.Fatalf("next page %q does not keep the limit", v.next)
		}
		path = v.next
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("pages gave %v, want %v", got, all)
	}
	// Filters carry over to the next page.
	v := linksGet(t, env, session, "/links?limit=1&channel=sms&q=example.com")
	if u, _ := url.Parse(v.next); u.Query().Get("channel") != "sms" || u.Query().Get("q") != "example.com" {
		t.Errorf("next page %q drops the filters", v.next)
	}
}

func TestLinksPageBadInput(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	for _, tt := range []struct{ path, want string }{
		{"/links?after=garbage!", "start again from the first page"},
		{"/links?channel=fax", "unknown channel"},
		{"/links?limit=many", "is not a number"},
		{"/links?q=" + strings.Repeat("a", 3000), "longer than the 2048"},
	} {
		resp, body := env.do(t, http.MethodGet, tt.path, "", header{"Cookie": session})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tt.want) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %.40s: %d %s, want a 400 page saying %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.want)
		}
	}
}

// linksPost sends the disable form of code as a browser would, with the
// CSRF field of v (unless csrf is false) and the session.
func linksPost(t *testing.T, env *testEnv, session string, v linksPageView, code, disabled, back string, csrf bool) *http.Response {
	t.Helper()
	form := url.Values{"disabled": {disabled}, "back": {back}}
	if csrf {
		form.Set("csrf", v.csrf)
	}
	resp, _ := env.do(t, http.MethodPost, "/links/"+code+"/disabled", form.Encode(),
		header{"Content-Type": "application/x-www-form-urlencoded", "Cookie": session})
	return resp
}

func TestLinksPageDisablesAndEnables(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	codes := linksFixture(t, env)
	code := codes["b.example.com/x sms"]
	redirect := func() int {
		resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil)
		return resp.StatusCode
	}
	v := linksGet(t, env, session, "/links?q=b.example")
	if v.csrf == "" {
		t.Fatal("the page gave no CSRF token")
	}

	if resp := linksPost(t, env, session, v, code, "true", v.back, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disable without the CSRF token: %d, want 403", resp.StatusCode)
	}
	// The page's token is the session's: without the session it is void.
	if resp := linksPost(t, env, "", v, code, "true", v.back, true); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disable with the session's token but no session: %d, want 403", resp.StatusCode)
	}
	anonymous := v
	anonymous.csrf, _ = url.QueryUnescape(strings.TrimPrefix(env.csrfForm(t), "csrf="))
	if resp := linksPost(t, env, "", anonymous, code, "true", v.back, true); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Errorf("disable without a session: %d to %q, want the login form", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := linksPost(t, env, session, anonymous, code, "true", v.back, true); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disable with a session and a token made without it: %d, want 403", resp.StatusCode)
	}
	if got := redirect(); got != http.StatusFound {
		t.Fatalf("refused posts changed the link: %d", got)
	}

	resp := linksPost(t, env, session, v, code, "true", v.back, true)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links?q=b.example" {
		t.Fatalf("disable: %d to %q, want 303 back to the list", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := redirect(); got != http.StatusGone {
		t.Errorf("disabled link answers %d, want 410", got)
	}
	v = linksGet(t, env, session, "/links?q=b.example")
	for _, want := range []string{`<tr id="link-` + code + `" class="is-disabled">`, `<td class="status">Disabled</td>`, `name="disabled" value="false"`} {
		if !strings.Contains(v.body, want) {
			t.Errorf("after disabling, the page lacks %q", want)
		}
	}

	for _, back := range []string{"//evil.test/x", "https://evil.test/", "/\\evil.test", "/\t/evil.test", ""} {
		resp = linksPost(t, env, session, v, code, "false", back, true)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links" {
			t.Errorf("back %q: %d to %q, want /links", back, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if got := redirect(); got != http.StatusFound {
		t.Errorf("re-enabled link answers %d, want 302", got)
	}

	for _, tt := range []struct {
		code, disabled string
		want           int
	}{
		{code, "yes", http.StatusBadRequest},
		{code, "", http.StatusBadRequest},
		{"nosuchcode", "true", http.StatusNotFound},
	} {
		if resp := linksPost(t, env, session, v, tt.code, tt.disabled, "/links", true); resp.StatusCode != tt.want {
			t.Errorf("post %s disabled=%q: %d, want %d", tt.code, tt.disabled, resp.StatusCode, tt.want)
		}
	}
}

func TestLinksJSON(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	codes := linksFixture(t, env)
	get := func(path string, h header) (int, linkList, string) {
		t.Helper()
		resp, body := env.do(t, http.MethodGet, path, "", h)
		var out linkList
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatalf("GET %s: %v in %s", path, err, body)
			}
		}
		return resp.StatusCode, out, body
	}

	status, page, body := get("/api/v1/links?q=story&channel=email&limit=1", env.bearer())
	l := codes["news.example.org/Story-1 email"]
	if status != http.StatusOK || len(page.Links) != 1 || page.Links[0].Code != l || page.Next == "" {
		t.Fatalf("first page: %d %s", status, body)
	}
	if got := page.Links[0]; got.URL != "https://news.example.org/Story-1" || got.ShortURL != "https://s.test/"+l || !strings.Contains(got.StatsURL, "/stats/"+l+"?key=") {
		t.Errorf("link %+v", got)
	}
	status, page, body = get("/api/v1/links?q=story&channel=email&limit=1&after="+url.QueryEscape(page.Next), env.bearer())
	if status != http.StatusOK || len(page.Links) != 1 || page.Links[0].Code != codes["news.example.org/story-2 email"] || page.Next != "" {
		t.Errorf("second page: %d %s", status, body)
	}
	if !strings.Contains(body, `"next":""`) {
		t.Errorf("last page: %s, want next as an empty string", body)
	}

	session := linksAdmin(t, env)
	if status, page, _ := get("/api/v1/links", header{"Cookie": session}); status != http.StatusOK || len(page.Links) != len(codes) {
		t.Errorf("with a session: %d, %d links", status, len(page.Links))
	}
	for _, tt := range []struct {
		path string
		h    header
		want int
		code string
	}{
		{"/api/v1/links", nil, http.StatusUnauthorized, "unauthorized"},
		{"/api/v1/links", header{"Authorization": "Bearer wrong"}, http.StatusUnauthorized, "unauthorized"},
		{"/api/v1/links?after=x!", env.bearer(), http.StatusBadRequest, "bad_query"},
		{"/api/v1/links?channel=fax", env.bearer(), http.StatusBadRequest, "unknown_channel"},
		{"/api/v1/links?limit=1e3", env.bearer(), http.StatusBadRequest, "bad_request"},
	} {
		status, _, body := get(tt.path, tt.h)
		var e errorResult
		_ = json.Unmarshal([]byte(body), &e)
		if status != tt.want || e.Error.Code != tt.code {
			t.Errorf("GET %s: %d %s, want %d %s", tt.path, status, body, tt.want, tt.code)
		}
	}
	// Minting is still POST on the same path, and other methods are not allowed.
	if m := env.mint(t, `{"url":"https://news.example.org/new","channels":["qr"]}`, nil); len(m.Links) != 1 {
		t.Errorf("mint after listing: %+v", m)
	}
	if resp, body := env.do(t, http.MethodPut, "/api/v1/links", "", env.bearer()); resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, "method_not_allowed") {
		t.Errorf("PUT /api/v1/links: %d %s, want 405", resp.StatusCode, body)
	}
}

// linksForm posts form to path as the admin of session, with the CSRF
// field of the links page.
func linksForm(t *testing.T, env *testEnv, session, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	form.Set("csrf", linksGet(t, env, session, "/links").csrf)
	return env.do(t, http.MethodPost, path, form.Encode(), header{"Content-Type": "application/x-www-form-urlencoded", "Cookie": session})
}

func TestLinksPageCreatesLinks(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	resp, _ := linksForm(t, env, session, "/links", url.Values{"url": {"https://elsewhere.test/story#top"}, "channel": {"email", "qr"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links?q="+url.QueryEscape("https://elsewhere.test/story") {
		t.Fatalf("create: %d to %q, want the new links' search", resp.StatusCode, resp.Header.Get("Location"))
	}
	v := linksGet(t, env, session, resp.Header.Get("Location"))
	if len(v.codes) != 2 || !strings.Contains(v.body, ">email<") || !strings.Contains(v.body, ">qr<") {
		t.Errorf("after creating email and qr links: rows %q", v.codes)
	}
	for _, tt := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"url": {"https://elsewhere.test/x"}}, http.StatusBadRequest}, // no channel
		{url.Values{"url": {"not a url"}, "channel": {"email"}}, http.StatusBadRequest},
		{url.Values{"url": {"https://blocked.test/x"}, "channel": {"email"}}, http.StatusForbidden},
	} {
		resp, page := linksForm(t, env, session, "/links", tt.form)
		if resp.StatusCode != tt.want {
			t.Errorf("create %v: %d, want %d", tt.form, resp.StatusCode, tt.want)
		}
		if !strings.Contains(page, `<nav class="admin-nav">`) {
			t.Errorf("create %v: the error page lost the navigation:\n%s", tt.form, page)
		}
	}
	// Without the form's token, or without a session, nothing is minted.
	form := header{"Content-Type": "application/x-www-form-urlencoded", "Cookie": session}
	if resp, page := env.do(t, http.MethodPost, "/links", "url=https%3A%2F%2Fother.test%2F&channel=sms", form); resp.StatusCode != http.StatusForbidden ||
		strings.Contains(page, "admin-nav") {
		t.Errorf("create without the CSRF token: %d, want 403 without the admin's navigation", resp.StatusCode)
	}
	if v := linksGet(t, env, session, "/links?q=other.test"); len(v.codes) != 0 {
		t.Errorf("a refused post minted %q", v.codes)
	}
}

func TestLinksPageClicksAndSorts(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	codes := linksFixture(t, env)
	busy, quiet := codes["b.example.com/x sms"], codes["a.example.com/x email"]
	for range 3 {
		env.do(t, http.MethodGet, "/"+busy, "", nil)
	}
	env.do(t, http.MethodGet, "/"+quiet, "", nil)
	v := linksGet(t, env, session, "/links?sort=clicks")
	if len(v.codes) != 10 || v.codes[0] != busy || v.codes[1] != quiet {
		t.Errorf("by clicks: %q, want %s then %s first", v.codes, busy, quiet)
	}
	if !regexp.MustCompile(`<tr id="link-` + busy + `"[^>]*>[\s\S]*?<td class="num clicks">3</td>`).MatchString(v.body) {
		t.Errorf("the busy link's row does not show its 3 clicks")
	}
	// Newest first (links minted in the same second tie, and keep the
	// list's order; sortRows's own test tells them apart).
	v = linksGet(t, env, session, "/links?sort=created&q=example.org")
	var last time.Time
	for i, code := range v.codes {
		l, err := env.links.Get(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && l.CreatedAt.After(last) {
			t.Errorf("newest first: %s, created %s, after one created %s", code, l.CreatedAt, last)
		}
		last = l.CreatedAt
	}
	if len(v.codes) != 4 {
		t.Errorf("newest first of the search: %q, want its 4 links", v.codes)
	}
	if resp, _ := env.do(t, http.MethodGet, "/links?sort=size", "", header{"Cookie": session}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sort=size: %d, want 400", resp.StatusCode)
	}
}

// Bulk disable asks first, then disables exactly the links of the search,
// and asks again if the search's results changed in between.
func TestLinksPageDisablesASearchInBulk(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := linksAdmin(t, env)
	codes := linksFixture(t, env)
	search := url.Values{"q": {"news.example.org"}, "channel": {"email"}}
	resp, page := linksForm(t, env, session, "/links/disable-all", search)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Disable <strong>2</strong> active links") || !strings.Contains(page, `name="confirm" value="2"`) {
		t.Fatalf("first post: %d, want a confirmation of 2 links:\n%s", resp.StatusCode, page)
	}
	for _, l := range []string{"news.example.org/Story-1 email", "news.example.org/story-2 email"} {
		if !strings.Contains(page, codes[l]) {
			t.Errorf("the confirmation does not list %s", l)
		}
	}
	for code, status := range env.statuses(t, codes) {
		if status != http.StatusFound {
			t.Fatalf("asking disabled %s", code)
		}
	}
	// A link minted in between changes the count: asked again, nothing done.
	env.mint(t, `{"url":"https://news.example.org/story-3","channels":["email"]}`, env.bearer())
	confirm := url.Values{"q": search["q"], "channel": search["channel"], "confirm": {"2"}}
	resp, page = linksForm(t, env, session, "/links/disable-all", confirm)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "changed since you were asked") || !strings.Contains(page, `name="confirm" value="3"`) {
		t.Fatalf("a stale confirmation: %d, want to be asked again for 3", resp.StatusCode)
	}
	confirm.Set("confirm", "3")
	resp, _ = linksForm(t, env, session, "/links/disable-all", confirm)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links?channel=email&q=news.example.org" {
		t.Fatalf("confirmed: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for name, code := range codes {
		want := http.StatusFound
		if strings.HasPrefix(name, "news.example.org/") && strings.HasSuffix(name, " email") {
			want = http.StatusGone
		}
		if resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil); resp.StatusCode != want {
			t.Errorf("%s answers %d, want %d", name, resp.StatusCode, want)
		}
	}
	// No search: refused, so one click can never disable every link.
	if resp, _ := linksForm(t, env, session, "/links/disable-all", url.Values{"confirm": {"10"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bulk disable without a search: %d, want 400", resp.StatusCode)
	}
	// Without the form's token: refused.
	form := header{"Content-Type": "application/x-www-form-urlencoded", "Cookie": session}
	if resp, _ := env.do(t, http.MethodPost, "/links/disable-all", "q=example.com&confirm=6", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bulk disable without the CSRF token: %d, want 403", resp.StatusCode)
	}
}

// statuses follows each code once and returns the answers' statuses.
func (e *testEnv) statuses(t *testing.T, codes map[string]string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, code := range codes {
		resp, _ := e.do(t, http.MethodGet, "/"+code, "", nil)
		out[code] = resp.StatusCode
	}
	return out
}

func TestSortRows(t *testing.T) {
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	rows := func() []linkRow {
		return []linkRow{
			{Link: link.Link{Code: "a", CreatedAt: at(2)}, Clicks: 1},
			{Link: link.Link{Code: "b", CreatedAt: at(3)}, Clicks: 0},
			{Link: link.Link{Code: "c", CreatedAt: at(1)}, Clicks: 5},
			{Link: link.Link{Code: "d", CreatedAt: at(3)}, Clicks: 1},
		}
	}
	for order, want := range map[string]string{"": "abcd", "clicks": "cadb", "created": "bdac"} {
		r := rows()
		sortRows(r, order)
		var got string
		for _, row := range r {
			got += row.Code
		}
		if got != want {
			t.Errorf("sort %q: %s, want %s", order, got, want)
		}
	}
}
