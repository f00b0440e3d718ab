package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
)

// call sends a request with a bearer token and returns the status and
// the JSON answer decoded (nil if none).
func call(t *testing.T, method, target, token, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out
}

// withoutBase drops the fields of a JSON answer that hold the instance's
// own address, at any depth.
func withoutBase(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, "_url") && k != "url" {
				delete(x, k)
				continue
			}
			x[k] = withoutBase(e)
		}
	case []any:
		for i, e := range x {
			x[i] = withoutBase(e)
		}
	}
	return v
}

// A bbolt db with some of everything moves to PostgreSQL whole: an
// instance on the copy answers as one on the file did, the same tokens
// work, and a second copy into the now full database is refused.
func TestCopyMovesABoltDBToPostgres(t *testing.T) {
	dbURL := pgtest.URL(t)
	path := filepath.Join(t.TempDir(), "d.db")
	// No DARKSHARE_ADMIN_TOKEN: the generated token must survive the move.
	src, stop := startInProcess(t, []string{"serve", "--listen", "127.0.0.1:0", "--db", path, "--allow-host", "news.example.org"}, nil)
	token := src.token
	page := "https://news.example.org/a"
	a := mintEmail(t, src, page)
	b := mintEmail(t, src, "https://news.example.org/b")
	c := mintEmail(t, src, "https://news.example.org/c")
	clickConcurrently(t, src, a, 40)
	for _, ua := range []string{browserUA, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"} {
		get(t, src.base+"/"+b, ua, nil)
	}
	get(t, src.base+"/"+b, "WhatsApp/2.23.20.0 A", nil) // a preview
	for _, req := range []struct{ method, path, body string }{
		{http.MethodPatch, "/api/v1/links/" + c, `{"disabled":true}`},
		{http.MethodPatch, "/api/v1/links/" + b, `{"campaign":{"preset":"utm","name":"spring"}}`},
		{http.MethodPost, "/api/v1/links/" + a + "/stats-key", ""},
		{http.MethodPost, "/api/v1/shares", `{"code":"` + a + `"}`},
		{http.MethodPost, "/api/v1/views", `{"url":"` + page + `"}`},
	} {
		if s, body := call(t, req.method, src.base+req.path, token, req.body); s >= 300 {
			t.Fatalf("%s %s: %d %v", req.method, req.path, s, body)
		}
	}
	out, err := runCLI(t, nil, "keys", "create", "--server", src.base, "--token", token, "--name", "cms", "--scopes", "links:write,stats:read,admin")
	apiKey := keyToken.FindString(out)
	if err != nil || apiKey == "" {
		t.Fatalf("keys create: %v\n%s", err, out)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	out, err = runCLI(t, nil, "copy", "--from", path, "--to", dbURL)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	for _, want := range []string{"links         3", "API keys      1", "the same token works", "42 clicks", "Verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary does not say %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, nil, "copy", "--from", path, "--to", dbURL)
	if err == nil || !strings.Contains(err.Error(), "not empty") || strings.Contains(err.Error(), "VERIFICATION") {
		t.Fatalf("a second copy into the same database: %v\n%s", err, out)
	}

	onPG, _ := startInProcess(t, []string{"serve", "--listen", "127.0.0.1:0", "--db", dbURL}, nil)
	if onPG.token != "" {
		t.Fatal("the copy has no admin token: a new one was generated")
	}
	onFile, _ := startInProcess(t, []string{"serve", "--listen", "127.0.0.1:0", "--db", path}, nil)
	for _, tok := range []string{token, apiKey} {
		if s, _ := call(t, http.MethodGet, onPG.base+"/api/v1/keys", tok, ""); s != http.StatusOK {
			t.Fatalf("%.8s… on the copy: %d", tok, s)
		}
	}
	same := func(what string) {
		t.Helper()
		s1, want := call(t, http.MethodGet, onFile.base+what, token, "")
		s2, got := call(t, http.MethodGet, onPG.base+what, token, "")
		if s1 != http.StatusOK || s2 != s1 || !reflect.DeepEqual(withoutBase(got), withoutBase(want)) {
			t.Errorf("%s: the copy answers %d %v\nthe file answered %d %v", what, s2, got, s1, want)
		}
	}
	same("/api/v1/links?limit=10") // codes, disabled flags, campaigns, destinations
	for _, code := range []string{a, b, c} {
		same("/api/v1/links/" + code + "/stats")
	}
	same("/api/v1/stats?url=" + url.QueryEscape(page)) // page views, shares
	// The rotated stats key of a, as its owner holds it.
	_, list := call(t, http.MethodGet, onFile.base+"/api/v1/links?limit=10", token, "")
	for _, l := range list["links"].([]any) {
		su := l.(map[string]any)["stats_url"].(string)
		key := su[strings.Index(su, "?"):]
		if s, _ := call(t, http.MethodGet, onPG.base+"/api/v1/links/"+l.(map[string]any)["code"].(string)+"/stats"+key, "", ""); s != http.StatusOK {
			t.Fatalf("a stats key on the copy: %d", s)
		}
	}
	if s := get(t, onPG.base+"/"+c, browserUA, nil); s != http.StatusGone {
		t.Fatalf("the disabled link on the copy: %d", s)
	}
}

// The verification reads the copy back and fails on any difference: a
// link's field, a count.
func TestCopyVerificationCatchesDifferences(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	src, stop := startInProcess(t, []string{"serve", "--listen", "127.0.0.1:0", "--db", path}, nil)
	code := mintEmail(t, src, "https://news.example.org/v")
	clickConcurrently(t, src, code, 5)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	from, err := openBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer from.close()
	if err := from.loadCounts(); err != nil {
		t.Fatal(err)
	}
	to, err := openBackend(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer to.close()
	c := &copier{src: from, dst: to, progress: io.Discard, today: stats.DayOf(time.Now())}
	if err := c.checkEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := c.copy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.verify(ctx, sum); err != nil {
		t.Fatalf("a faithful copy: %v", err)
	}

	d := stats.Delta{DayKey: stats.DayKey{Code: code, Day: c.today}}
	d.Add(stats.Clicks, 1)
	if err := to.counts.Apply(ctx, stats.Batch{Writer: 1, Seq: 1, Deltas: []stats.Delta{d}}); err != nil {
		t.Fatal(err)
	}
	if err := c.verify(ctx, sum); err == nil || !strings.Contains(err.Error(), "clicks 5, 6 in the copy") {
		t.Fatalf("a click more in the copy: %v", err)
	}
	if _, err := to.links.Update(ctx, code, func(l *link.Link) error { l.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.verify(ctx, sum); err == nil || !strings.Contains(err.Error(), "links differ") {
		t.Fatalf("a link disabled in the copy: %v", err)
	}
}
