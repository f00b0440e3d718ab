package track

import (
	"bytes"
	"fmt"

	"github.com/coregx/ahocorasick"
)

// uaMatcher finds every pattern of every user-agent table in one pass over
// the lower-cased agent, with an Aho-Corasick automaton: the cost of a
// classification grows with the agent's length, not with the number of
// patterns (about two thousand, most of them crawlerdetect's, as literals in
// crawlers_gen.go). crawlerdetect's alternation of regular expressions costs
// about 100 µs an agent.
type uaMatcher struct {
	ac *ahocorasick.Automaton
	// tokens holds, for each distinct pattern text (the automaton's pattern
	// id), what that text means: a text can be in several tables.
	tokens [][]token
}

// tokenKind says which table a pattern comes from, in the order Classify
// decides by.
type tokenKind uint8

const (
	tokInApp     tokenKind = iota // an app's built-in browser (needs "mozilla/")
	tokPreview                    // a link preview
	tokScanner                    // a mail gateway
	tokBot                        // a tool, library, crawler (botTokens, crawlerPatterns)
	tokExclusion                  // a browser word a crawler token inside it does not count in
	tokPlatform                   // a browser engine or platform word
	tokBrowser                    // a browser's format that needs no "Mozilla/"
)

type token struct {
	kind   tokenKind
	anchor patternKind
	// word: the match must start a word (table patterns), see tables.go.
	word bool
	rank int    // the row's place in its table: the lowest matching rank wins
	app  string // for in-app, preview and scanner rows
}

// maxSpans bounds the bot and exclusion matches remembered per agent; an
// agent with more bot tokens than that is a bot whatever the exclusions.
// A long browser agent holds twenty-odd exclusion words ("mozilla",
// "windows nt", "applewebkit", "khtml,", "gecko", "safari", …).
const maxSpans = 48

type span struct{ start, end int }

func newUAMatcher() (*uaMatcher, error) {
	m := &uaMatcher{}
	ids := map[string]int{}
	var texts []string
	add := func(p pattern, t token) {
		t.anchor = p.kind
		id, ok := ids[p.s]
		if !ok {
			id = len(texts)
			ids[p.s] = id
			texts = append(texts, p.s)
			m.tokens = append(m.tokens, nil)
		}
		m.tokens[id] = append(m.tokens[id], t)
	}
	for kind, rows := range map[tokenKind][]uaRow{tokInApp: inAppRows, tokPreview: previewRows, tokScanner: scannerRows} {
		for rank, r := range rows {
			for _, p := range r.patterns {
				add(p, token{kind: kind, word: true, rank: rank, app: r.app})
			}
		}
	}
	for _, p := range botTokens {
		add(p, token{kind: tokBot, word: true})
	}
	for _, p := range crawlerPatterns {
		add(p, token{kind: tokBot})
	}
	for _, s := range append(crawlerExclusions, browserExclusions...) {
		add(has(s), token{kind: tokExclusion})
	}
	for _, p := range platformMarkers {
		add(p, token{kind: tokPlatform})
	}
	for _, p := range browserMarkers {
		add(p, token{kind: tokBrowser})
	}
	ac, err := ahocorasick.NewBuilder().AddStrings(texts).Build()
	if err != nil {
		return nil, fmt.Errorf("track: building the user-agent matcher: %w", err)
	}
	m.ac = ac
	return m, nil
}

// verdict is what the matcher found in one agent.
type verdict struct {
	inApp, preview, scanner string // the best row's app, or ""
	bot                     bool   // a bot token outside every exclusion
	browser                 bool   // shaped like a browser's agent
	engine                  bool   // names a browser engine ("mozilla/")
}

// scan matches lower, a lower-cased user agent.
func (m *uaMatcher) scan(lower []byte) verdict {
	var v verdict
	ranks := [tokBot]int{-1, -1, -1}
	var bots, excl [maxSpans]span
	nBots, nExcl := 0, 0
	platform := false
	for _, match := range m.ac.FindAllOverlapping(lower) {
		for _, t := range m.tokens[match.PatternID] {
			if !t.fits(lower, match.Start, match.End) {
				continue
			}
			switch t.kind {
			case tokInApp, tokPreview, tokScanner:
				if ranks[t.kind] < 0 || t.rank < ranks[t.kind] {
					ranks[t.kind] = t.rank
					v.setApp(t.kind, t.app)
				}
			case tokBot:
				if nBots == maxSpans {
					v.bot = true
					continue
				}
				bots[nBots] = span{match.Start, match.End}
				nBots++
			case tokExclusion:
				if nExcl < maxSpans {
					excl[nExcl] = span{match.Start, match.End}
					nExcl++
				}
			case tokPlatform:
				platform = true
			case tokBrowser:
				v.browser = true
			}
		}
	}
	for _, b := range bots[:nBots] {
		if !inside(b, excl[:nExcl]) {
			v.bot = true
			break
		}
	}
	v.engine = bytes.Contains(lower, []byte("mozilla/"))
	v.browser = v.browser || v.engine && platform
	return v
}

func (v *verdict) setApp(kind tokenKind, app string) {
	switch kind {
	case tokInApp:
		v.inApp = app
	case tokPreview:
		v.preview = app
	case tokScanner:
		v.scanner = app
	}
}

// fits reports whether a match of t at lower[start:end] meets its anchor and
// word rule.
func (t token) fits(lower []byte, start, end int) bool {
	switch t.anchor {
	case kindWhole:
		return start == 0 && end == len(lower)
	case kindPrefix:
		return start == 0
	case kindSuffix:
		return end == len(lower)
	}
	return !t.word || !isAlnum(lower[start]) || start == 0 || !isAlnum(lower[start-1])
}

func inside(s span, spans []span) bool {
	for _, e := range spans {
		if e.start <= s.start && s.end <= e.end {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// lowerASCII writes s lower-cased (ASCII letters only) into dst, which must
// be at least len(s) long, and returns the written part.
func lowerASCII(dst []byte, s string) []byte {
	dst = dst[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}
