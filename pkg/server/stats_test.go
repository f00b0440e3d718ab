package server

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/storetest"
)

// statsKeyOf returns the key in an admin mint answer's stats URL.
func statsKeyOf(t *testing.T, l mintedLink) string {
	t.Helper()
	u, err := url.Parse(l.StatsURL)
	if err != nil || u.Query().Get("key") == "" {
		t.Fatalf("stats url %q has no key", l.StatsURL)
	}
	return u.Query().Get("key")
}

func TestLinkStatsJSON(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	minted := env.mint(t, `{"url":"https://news.example.org/s","channels":["email","sms"]}`, env.bearer())
	email, sms := minted.Links[0], minted.Links[1]
	for range 2 {
		env.do(t, http.MethodGet, "/"+email.Code, "", nil)
	}
	key := statsKeyOf(t, email)

	resp, body := env.do(t, http.MethodGet, "/api/v1/links/"+email.Code+"/stats?key="+key, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("with key: %d %s", resp.StatusCode, body)
	}
	var s linkStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	today := stats.DayOf(time.Now()).String()
	if s.Code != email.Code || s.URL != "https://news.example.org/s" || s.Channel != "email" || s.Clicks != 2 ||
		s.CreatedAt.IsZero() || len(s.Days) != 1 || s.Days[0].Date != today || s.Days[0].Clicks != 2 || s.Days[0].UniqueVisitors != 1 {
		t.Fatalf("stats %+v", s)
	}

	// A wrong key, another link's key and an unknown code must be
	// indistinguishable, or the endpoint would reveal which codes exist.
	_, wrongKey := env.do(t, http.MethodGet, "/api/v1/links/"+email.Code+"/stats?key=AAAAAAAAAAAAAAAAAAAAAA", "", nil)
	_, otherKey := env.do(t, http.MethodGet, "/api/v1/links/"+email.Code+"/stats?key="+statsKeyOf(t, sms), "", nil)
	resp, unknown := env.do(t, http.MethodGet, "/api/v1/links/nosuchcode/stats?key="+key, "", nil)
	if resp.StatusCode != http.StatusNotFound || wrongKey != unknown || otherKey != unknown {
		t.Fatalf("wrong key %s / other key %s / unknown code %d %s: want one 404 answer", wrongKey, otherKey, resp.StatusCode, unknown)
	}
	for _, code := range []string{email.Code, "nosuchcode"} {
		resp, body := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"unauthorized"`) {
			t.Errorf("%s without credentials: %d %s", code, resp.StatusCode, body)
		}
	}
	resp, body = env.do(t, http.MethodGet, "/api/v1/links/"+sms.Code+"/stats", "", env.bearer())
	if resp.StatusCode != 200 || !strings.Contains(body, `"clicks":0`) || !strings.Contains(body, `"days":[]`) {
		t.Errorf("admin, link without clicks: %d %s", resp.StatusCode, body)
	}
}

func TestPageStatsJSON(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	minted := env.mint(t, `{"url":"https://news.example.org/p","channels":["email","whatsapp","copy"]}`, nil)
	clicks := map[string]int{"email": 1, "whatsapp": 3}
	for _, l := range minted.Links {
		for range clicks[string(l.Channel)] {
			env.do(t, http.MethodGet, "/"+l.Code, "", nil)
		}
	}
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.do(t, http.MethodGet, "/"+minted.Links[0].Code, "", nil) // pending, not yet flushed

	resp, body := env.do(t, http.MethodGet, "/api/v1/stats?url="+url.QueryEscape("https://NEWS.example.org/p?utm_medium=x"), "", env.bearer())
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var p pageStats
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	if p.URL != "https://news.example.org/p" || p.Clicks != 5 || len(p.Channels) != 3 ||
		p.Channels["email"].Clicks != 2 || p.Channels["whatsapp"].Clicks != 3 || p.Channels["copy"].Clicks != 0 ||
		p.Channels["email"].Code != minted.Links[0].Code {
		t.Fatalf("page stats %+v", p)
	}

	for _, tt := range []struct {
		query  string
		status int
	}{{"", 400}, {"?url=ftp://x", 400}, {"?url=" + url.QueryEscape("https://news.example.org/never-shared"), 404}} {
		resp, body := env.do(t, http.MethodGet, "/api/v1/stats"+tt.query, "", env.bearer())
		if resp.StatusCode != tt.status || !strings.Contains(body, `"error"`) {
			t.Errorf("%q: %d %s, want %d", tt.query, resp.StatusCode, body, tt.status)
		}
	}
	resp, _ = env.do(t, http.MethodGet, "/api/v1/stats?url=https://news.example.org/p", "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous per-page stats: %d, want 401", resp.StatusCode)
	}
}

func TestStatsPage(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	hostile := `https://news.example.org/"><script>alert(1)</script>`
	body, _ := json.Marshal(map[string]any{"url": hostile, "channels": []string{"email"}})
	l := env.mint(t, string(body), env.bearer()).Links[0]
	env.do(t, http.MethodGet, "/"+l.Code, "", header{"Referer": "https://web.whatsapp.com/"})
	path := "/stats/" + l.Code + "?key=" + statsKeyOf(t, l)

	resp, page := env.do(t, http.MethodGet, path, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, page)
	}
	if strings.Contains(page, "<script>") {
		t.Fatal("the target URL reached the page unescaped")
	}
	for _, want := range []string{`<span class="n" id="clicks-total">1</span>`, `class="bar"`, "/" + l.Code + "/qr.png", "%3Cscript%3E",
		"<td>chat apps (WhatsApp Web, Telegram Web, …)</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The referrer class of chat apps' web versions is not named like the
	// Messenger channel.
	if strings.Contains(page, "<td>messenger</td>") {
		t.Error("the referrer class shows as messenger, like the Messenger channel")
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"Referrer-Policy":         "same-origin",
		"X-Content-Type-Options":  "nosniff",
	} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("%s: %q, want %q", h, resp.Header.Get(h), want)
		}
	}

	resp, _ = env.do(t, http.MethodGet, "/stats/"+l.Code, "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape("/stats/"+l.Code) {
		t.Errorf("no credentials: %d to %q, want the login form", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, wrong := env.do(t, http.MethodGet, "/stats/"+l.Code+"?key=wrong", "", nil)
	resp, unknown := env.do(t, http.MethodGet, "/stats/nosuchcode?key=wrong", "", nil)
	if resp.StatusCode != http.StatusNotFound || wrong != unknown {
		t.Errorf("wrong key and unknown code differ: %d", resp.StatusCode)
	}
}

// csrfForm gets the login form as a browser without a session would, and
// returns its CSRF field ("csrf=…") to send back with a post. The form
// sets no cookie: its token is signed, and nothing is kept of it.
func (e *testEnv) csrfForm(t *testing.T) (field string) {
	t.Helper()
	resp, page := e.do(t, http.MethodGet, "/login", "", nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil || len(resp.Cookies()) != 0 {
		t.Fatalf("the login form: no CSRF token, or cookies %v", resp.Cookies())
	}
	return "csrf=" + url.QueryEscape(html.UnescapeString(m[1]))
}

func TestLoginSessionOpensStatsPages(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	l := env.mint(t, `{"url":"https://news.example.org/l","channels":["sms"]}`, nil).Links[0]
	csrfField := env.csrfForm(t)
	form := header{"Content-Type": "application/x-www-form-urlencoded"}
	post := func(body string) (*http.Response, string) {
		return env.do(t, http.MethodPost, "/login", body+"&"+csrfField, form)
	}

	resp, page := post("token=wrong&next=/stats/" + l.Code)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "not the admin token") || hasCookie(resp, sessionCookie) {
		t.Fatalf("wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = post("token=" + url.QueryEscape(env.token) + "&next=" + url.QueryEscape("/stats/"+l.Code))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/stats/"+l.Code {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure (https base URL), SameSite=Lax", cookie)
	}
	session := header{"Cookie": cookie.Name + "=" + cookie.Value}
	resp, _ = env.do(t, http.MethodGet, "/stats/"+l.Code, "", session)
	if resp.StatusCode != 200 {
		t.Fatalf("stats page with session: %d", resp.StatusCode)
	}
	resp, _ = env.do(t, http.MethodGet, "/api/v1/links/"+l.Code+"/stats", "", session)
	if resp.StatusCode != 200 {
		t.Errorf("stats JSON with session: %d", resp.StatusCode)
	}

	// Log out needs the form's token too: a cross-site post cannot log anyone out.
	withSession := header{"Content-Type": "application/x-www-form-urlencoded", "Cookie": session["Cookie"]}
	if resp, _ := env.do(t, http.MethodPost, "/logout", "", withSession); resp.StatusCode != http.StatusForbidden {
		t.Errorf("log out without the CSRF field: %d, want 403", resp.StatusCode)
	}
	// The token of a page shown without the session does not do either.
	if resp, _ := env.do(t, http.MethodPost, "/logout", csrfField, withSession); resp.StatusCode != http.StatusForbidden {
		t.Errorf("log out with a token made without the session: %d, want 403", resp.StatusCode)
	}
	_, page = env.do(t, http.MethodGet, "/stats/"+l.Code, "", session)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the stats page of the admin has no log-out form")
	}
	if resp, _ := env.do(t, http.MethodPost, "/logout", "csrf="+url.QueryEscape(html.UnescapeString(m[1])), withSession); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("log out with the page's form: %d, want 303", resp.StatusCode)
	}
	resp, _ = env.do(t, http.MethodGet, "/stats/"+l.Code, "", session)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout the old session still works: %d", resp.StatusCode)
	}
	// Without a page to go back to, or with one off this site, the admin
	// lands on the dashboard.
	for _, next := range []string{"", "/", "//evil.test/x", "https://evil.test/"} {
		resp, _ = post("token=" + url.QueryEscape(env.token) + "&next=" + url.QueryEscape(next))
		if resp.Header.Get("Location") != "/dashboard" {
			t.Errorf("login with next %q redirected to %q, want /dashboard", next, resp.Header.Get("Location"))
		}
	}
}

// An error page shown to the admin keeps the navigation; to anyone else it
// shows none.
func TestErrorPagesKeepTheNavigation(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	session := header{"Cookie": linksAdmin(t, env)}
	for _, path := range []string{"/nosuchcode", "/stats/nosuchcode", "/dashboard?days=abc"} {
		resp, page := env.do(t, http.MethodGet, path, "", session)
		if resp.StatusCode < 400 || !strings.Contains(page, `<nav class="admin-nav">`) || !strings.Contains(page, "Log out") {
			t.Errorf("%s as the admin: %d, without the navigation:\n%s", path, resp.StatusCode, page)
		}
		resp, page = env.do(t, http.MethodGet, path, "", nil)
		if resp.StatusCode < 300 || strings.Contains(page, "admin-nav") {
			t.Errorf("%s anonymously: %d, or the admin's navigation shown", path, resp.StatusCode)
		}
	}
}

func TestLoginNeedsCSRFTokenAndIsRateLimited(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	form := header{"Content-Type": "application/x-www-form-urlencoded"}
	resp, page := env.do(t, http.MethodPost, "/login", "token="+url.QueryEscape(env.token), form)
	if resp.StatusCode != http.StatusForbidden || hasCookie(resp, sessionCookie) || !strings.Contains(page, "reload the page") {
		t.Fatalf("login without a CSRF token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	csrfField := env.csrfForm(t)
	resp, _ = env.do(t, http.MethodPost, "/login", "token=x&csrf=forged", form)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with a forged CSRF token: %d", resp.StatusCode)
	}
	// Guessing tokens: the limit (which counts wrong tokens only, not the
	// refused forms above) stops it.
	for i := range DefaultLimits.Login.N {
		if resp, _ := env.do(t, http.MethodPost, "/login", "token=guess&"+csrfField, form); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong login %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	limited, page := env.do(t, http.MethodPost, "/login", "token="+url.QueryEscape(env.token)+"&"+csrfField, form)
	if limited.StatusCode != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" || hasCookie(limited, sessionCookie) || !strings.Contains(page, "Try again in 10 minutes") {
		t.Fatalf("the right token after %d wrong ones: %d, Retry-After %q, want 429 and no session", DefaultLimits.Login.N, limited.StatusCode, limited.Header.Get("Retry-After"))
	}
}

func hasCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return true
		}
	}
	return false
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/stats/abc?key=1":  "/stats/abc?key=1",
		"":                  "/",
		"//evil.test":       "/",
		"/\\evil.test":      "/",
		"https://evil":      "/",
		"stats/abc":         "/",
		"/ok\r\nSet-Cookie": "/",
		"/\t/evil.test":     "/",
		"/\n/evil.test":     "/",
		"/ /evil.test":      "/",
		"/stats/abc\x7f":    "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// failingCounts wraps the real store and fails writes of counts on demand,
// to show what a full disk does.
type failingCounts struct {
	stats.Store
	fail bool
}

func (f *failingCounts) Apply(ctx context.Context, b stats.Batch) error {
	if f.fail {
		return errors.New("disk full")
	}
	return f.Store.Apply(ctx, b)
}

func TestHealthReportsFailingFlush(t *testing.T) {
	db := storetest.MustOpen(t)
	fc := &failingCounts{Store: db}
	env := newEnv(t, db, "https://s.test", envSpec{counts: fc})
	resp, body := env.do(t, http.MethodGet, "/healthz", "", nil)
	if resp.StatusCode != 200 || body != `{"status":"ok"}` {
		t.Fatalf("healthy: %d %s", resp.StatusCode, body)
	}
	fc.fail = true
	code := env.mint(t, `{"url":"https://news.example.org/h","channels":["sms"]}`, nil).Links[0].Code
	env.do(t, http.MethodGet, "/"+code, "", nil)
	if err := env.agg.Flush(context.Background()); err == nil {
		t.Fatal("flush to a failing store succeeded")
	}
	resp, body = env.do(t, http.MethodGet, "/healthz", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "disk full") {
		t.Fatalf("failing: %d %s (want 503 without internal text)", resp.StatusCode, body)
	}
	if got := clicksOf(t, env, code); got != 1 {
		t.Fatalf("the click kept in memory shows as %d", got)
	}
	fc.fail = false
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := env.do(t, http.MethodGet, "/healthz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("after a good flush: %d", resp.StatusCode)
	}
	if got := clicksOf(t, env, code); got != 1 {
		t.Fatalf("after the retry: %d clicks, want exactly 1", got)
	}
}
