package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/darkshare/darkshare/store/storetest"
)

// FuzzMintBody sends arbitrary bodies to the mint endpoint: every answer is
// 200 with links for a normalised URL, or a JSON error with a 4xx status.
func FuzzMintBody(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://news.example.org/a","channels":["email"]}`,
		`{"url":"https://www.example.com/?utm_source=x#f"}`,
		`{"url":"https://evil.test/"}`,
		`{"url":5}`, `{"url":"x","channels":[1]}`, `[]`, `null`, `{"url":"\u0000"}`, ``, `{`,
		`{"url":"https://news.example.org@evil.test/"}`,
	} {
		f.Add(seed)
	}
	env := newTestEnv(f, storetest.MustOpen(f), "https://s.test")
	f.Fuzz(func(t *testing.T, body string) {
		resp, got := env.do(t, http.MethodPost, "/api/v1/links", body, nil)
		if resp.StatusCode == http.StatusOK {
			var r mintResult
			if err := json.Unmarshal([]byte(got), &r); err != nil || len(r.Links) == 0 || r.URL == "" {
				t.Fatalf("200 without links: %s", got)
			}
			return
		}
		var e errorResult
		if resp.StatusCode < 400 || resp.StatusCode > 499 || json.Unmarshal([]byte(got), &e) != nil || e.Error.Code == "" {
			t.Fatalf("body %q: %d %s", body, resp.StatusCode, got)
		}
	})
}
