package link

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzCampaign feeds custom templates and targets to ParseCampaign and
// Destination: neither may panic, a refusal wraps the right error, and a
// destination is the target's URL with our pairs once each, nothing lost.
func FuzzCampaign(f *testing.F) {
	for _, seed := range []struct {
		template, name, target, code string
		marker                       bool
	}{
		{"src={channel}&med=dark-social&camp={campaign}&id={code}", "spring", "https://news.example.org/story?id=42#top", "0lGnLyG_f", false},
		{"a=1&&b=x{code}y", "", "https://a.example/p?a=0&b=1&b=2", "c", true},
		{"utm_source={channel}", "{code}", "https://a.example/a%2Fb/c%20d?#x%20y", "c", true},
		{"a%20b={channel}&%C3%A9=1", "été", "http://[::1]:8080/?%7e=1&c", "c", false},
		{"a={chanel}", "", "https://a.example/", "c", false},
		{"a=%zz", "", "https://a.example/", "c", false},
		{"a=1;b=2", "", "mailto:x@a.example", "c", false},
		{"a={campaign", "x", "//a.example/p", "", true},
	} {
		f.Add(seed.template, seed.name, seed.target, seed.code, seed.marker)
	}
	f.Fuzz(func(t *testing.T, template, name, target, code string, marker bool) {
		c, err := ParseCampaign(Campaign{Preset: PresetCustom, Name: name, Template: template})
		if err != nil {
			if !errors.Is(err, ErrInvalidCampaign) {
				t.Fatalf("ParseCampaign(%q, %q): %v does not wrap ErrInvalidCampaign", template, name, err)
			}
			return
		}
		out, err := c.Destination(target, Email, code, marker)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("Destination(%q): %v does not wrap ErrInvalidURL", target, err)
			}
			return
		}
		checkDestination(t, c, target, code, marker, out)
	})
}

func checkDestination(t *testing.T, c Campaign, target, code string, marker bool, out string) {
	t.Helper()
	in, err := url.Parse(target)
	if err != nil {
		t.Fatalf("Destination accepted %q, which does not parse: %v", target, err)
	}
	got, err := url.Parse(out)
	if err != nil {
		t.Fatalf("Destination(%q) = %q, which does not parse: %v", target, out, err)
	}
	if got.Scheme != in.Scheme || got.Host != in.Host || got.Path != in.Path || got.Fragment != in.Fragment {
		t.Fatalf("Destination(%q) = %q: scheme, host, path or fragment changed", target, out)
	}
	p, _ := c.plan()
	want := map[string]string{}
	for _, pr := range p.pairs {
		want[pr.name] = p.fill(pr.value, Email, code)
	}
	if marker {
		want[MarkerParam] = code
	}
	theirs, _ := splitOurs(in.RawQuery, want)
	keptTheirs, ours := splitOurs(got.RawQuery, want)
	if strings.Join(keptTheirs, "&") != strings.Join(theirs, "&") {
		t.Fatalf("Destination(%q) = %q: the target's pairs %q became %q", target, out, theirs, keptTheirs)
	}
	for name, v := range want {
		if len(ours[name]) != 1 || ours[name][0] != v {
			t.Fatalf("Destination(%q) = %q: %s = %q, want once %q", target, out, name, ours[name], v)
		}
	}
}

// splitOurs splits a raw query into the pairs whose names are not in ours,
// as they are, and the values of the others. Empty pairs are dropped.
func splitOurs(rawQuery string, ours map[string]string) (theirs []string, values map[string][]string) {
	values = map[string][]string{}
	for raw := range strings.SplitSeq(rawQuery, "&") {
		if raw == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(raw, "=")
		name, err := url.QueryUnescape(rawName)
		if _, isOurs := ours[name]; err != nil || !isOurs {
			theirs = append(theirs, raw)
			continue
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			value = "<bad escape " + rawValue + ">"
		}
		values[name] = append(values[name], value)
	}
	return theirs, values
}
