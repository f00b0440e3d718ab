package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/darkshare/darkshare/store/storetest"
)

// A URL with a query reads in every JSON answer as it was written: "&",
// not "\u0026", whichever encoder wrote the answer.
func TestJSONAnswersKeepURLsAsWritten(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	const target = "https://news.example.org/a?x=1&y=2"
	resp, body := env.do(t, http.MethodPost, "/api/v1/links", `{"url":"`+target+`","channels":["email"]}`, env.bearer())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mint: %d %s", resp.StatusCode, body)
	}
	code := env.mint(t, `{"url":"`+target+`","channels":["email"]}`, nil).Links[0].Code
	if resp, _ := env.do(t, http.MethodGet, "/"+code, "", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("click: %d", resp.StatusCode)
	}
	answers := map[string]string{"mint": body}
	for name, path := range map[string]string{
		"stats":         "/api/v1/links/" + code + "/stats",
		"page stats":    "/api/v1/stats?url=" + strings.ReplaceAll(target, "&", "%26"),
		"list":          "/api/v1/links",
		"export json":   "/api/v1/admin/export?format=json&by=link",
		"export ndjson": "/api/v1/admin/export?format=ndjson",
	} {
		resp, body := env.do(t, http.MethodGet, path, "", env.bearer())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		answers[name] = body
	}
	for name, body := range answers {
		if !strings.Contains(body, `"`+target+`"`) || strings.Contains(body, `\u0026`) {
			t.Errorf("%s does not show %s as written:\n%s", name, target, body)
		}
	}
}
