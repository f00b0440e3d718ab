// Package templates holds darkshare's HTML pages, embedded in the binary.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

//go:embed *.html
var files embed.FS

// Set is every page, parsed once. It is safe for concurrent use.
type Set struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	// percent shows a share from 0 to 1 as "42.0%".
	"percent": func(share float64) string { return strconv.FormatFloat(100*share, 'f', 1, 64) + "%" },
	// breakURL shows a URL with break opportunities after its slashes and
	// before its query's parts, so a long one wraps where a reader splits it.
	"breakURL": breakURL,
	// dict passes several values to a sub-template: dict "k1" v1 "k2" v2.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict needs key and value pairs, got %d arguments", len(kv))
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// Parse parses every page with the base layout. It fails on the first broken
// template, so a bad page stops the server at startup instead of on a request.
func Parse() (*Set, error) {
	names, err := fs.Glob(files, "*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	s := &Set{pages: make(map[string]*template.Template)}
	for _, name := range names {
		if name == "base.html" || strings.HasPrefix(name, "_") {
			continue
		}
		// Files named _*.html hold parts several pages use.
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "base.html", "_*.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return s, nil
}

// Render executes page (a file name such as "stats.html") with data. It
// renders into a buffer first, so a failing template never sends half a page.
func (s *Set) Render(page string, data any) ([]byte, error) {
	t, ok := s.pages[page]
	if !ok {
		return nil, fmt.Errorf("no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

func breakURL(u string) template.HTML {
	var b strings.Builder
	for i := 0; i < len(u); {
		j := strings.IndexAny(u[i:], "/?&#")
		if j < 0 {
			b.WriteString(template.HTMLEscapeString(u[i:]))
			break
		}
		end := i + j + 1
		for end < len(u) && u[end] == '/' { // "//" stays whole
			end++
		}
		if u[i+j] == '/' {
			b.WriteString(template.HTMLEscapeString(u[i:end]) + "<wbr>")
		} else { // break before ?, & and #, which start the next part
			b.WriteString(template.HTMLEscapeString(u[i:i+j]) + "<wbr>" + template.HTMLEscapeString(u[i+j:end]))
		}
		i = end
	}
	return template.HTML(b.String())
}
