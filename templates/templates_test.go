package templates

import (
	"html/template"
	"strings"
	"testing"
)

func TestBreakURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://news.example.org/2024/story?id=1&x=2#top": "https://<wbr>news.example.org/<wbr>2024/<wbr>story<wbr>?id=1<wbr>&amp;x=2<wbr>#top",
		"plain":                     "plain",
		"":                          "",
		`https://x.test/"><script>`: "https://<wbr>x.test/<wbr>&#34;&gt;&lt;script&gt;",
		"https://x.test/a//b/":      "https://<wbr>x.test/<wbr>a//<wbr>b/<wbr>",
		"?&#":                       "<wbr>?<wbr>&amp;<wbr>#",
	} {
		if got := string(breakURL(in)); got != want {
			t.Errorf("breakURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzBreakURL(f *testing.F) {
	f.Add("https://news.example.org/2024/story?id=1&x=2#top")
	f.Add(`"><script>alert(1)</script>`)
	f.Fuzz(func(t *testing.T, u string) {
		got := string(breakURL(u))
		// Without its break opportunities, it is the escaped URL.
		if plain := strings.ReplaceAll(got, "<wbr>", ""); plain != template.HTMLEscapeString(u) {
			t.Errorf("breakURL(%q) = %q: not the escaped URL with <wbr> added", u, got)
		}
	})
}
