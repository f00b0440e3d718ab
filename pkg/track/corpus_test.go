package track

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// corpusRow is one labelled user agent of testdata/agents.tsv, drawn from
// public sources by testdata/gencorpus.py.
type corpusRow struct {
	line   int
	class  Class
	app    string // the app a preview or in-app browser is expected to be named by, or ""
	source string
	ua     string
}

func loadCorpus(tb testing.TB) []corpusRow {
	tb.Helper()
	f, err := os.Open("testdata/agents.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	classes := map[string]Class{"human": Human, "preview": Preview, "scanner": Scanner, "bot": Bot}
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, "\t", 4)
		if len(fields) != 4 {
			tb.Fatalf("agents.tsv:%d: %d fields, want 4", n, len(fields))
		}
		class, ok := classes[fields[0]]
		if !ok {
			tb.Fatalf("agents.tsv:%d: class %q", n, fields[0])
		}
		rows = append(rows, corpusRow{line: n, class: class, app: fields[1], source: fields[2], ua: fields[3]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(rows) < 1000 {
		tb.Fatalf("agents.tsv: %d rows, want the whole corpus", len(rows))
	}
	return rows
}

// isBrowserRow reports whether row is a real browser by its source
// (device-detector's client type "browser", or a hand-written human), all
// of which must be counted as clicks.
func isBrowserRow(row corpusRow) bool {
	return strings.Contains(row.source, ": browser ") || !strings.HasPrefix(row.source, "device-detector")
}

// Targets of issue #16.
const (
	minClassAccuracy = 0.95 // of all agents, in the right class
	minAppAccuracy   = 0.95 // of previews and named in-app browsers, named by their app
)

// TestCorpus classifies every agent of the corpus, logs the accuracy by
// class, and fails below the targets, or when any agent labelled human
// (a browser, or an app's built-in browser) is not counted as a click.
func TestCorpus(t *testing.T) {
	c := NewClassifier()
	type tally struct{ total, right int }
	var byClass [Bot + 1]tally
	var apps tally
	var all tally
	var wrong []string
	for _, row := range loadCorpus(t) {
		got := c.Classify(Visit{Method: "GET", UserAgent: row.ua})
		ok := got.Class == row.class
		byClass[row.class].total++
		all.total++
		if ok {
			byClass[row.class].right++
			all.right++
		}
		named := row.class == Preview || row.app != ""
		if named {
			apps.total++
		}
		appOK := got.App == row.app
		if named && ok && appOK {
			apps.right++
		}
		if !ok || (named && !appOK) {
			wrong = append(wrong, fmt.Sprintf("agents.tsv:%d want %s %q, got %s %q (%s): %q", row.line, row.class, row.app, got.Class, got.App, row.source, row.ua))
		}
		if row.class == Human && isBrowserRow(row) && got.Class != Human {
			t.Errorf("agents.tsv:%d: a browser counted as %s: %q (%s)", row.line, got.Class, row.ua, row.source)
		}
	}
	pct := func(x tally) float64 { return 100 * float64(x.right) / float64(max(x.total, 1)) }
	var b strings.Builder
	fmt.Fprintf(&b, "\n| class | agents | right | %% |\n|---|---|---|---|\n")
	for cl := Human; cl <= Bot; cl++ {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f |\n", cl, byClass[cl].total, byClass[cl].right, pct(byClass[cl]))
	}
	fmt.Fprintf(&b, "| all | %d | %d | %.1f |\n", all.total, all.right, pct(all))
	fmt.Fprintf(&b, "| previews and in-app browsers named by their app | %d | %d | %.1f |\n", apps.total, apps.right, pct(apps))
	t.Log(b.String())
	if testing.Verbose() || t.Failed() || pct(all) < 100*minClassAccuracy || pct(apps) < 100*minAppAccuracy {
		for _, w := range wrong {
			t.Log(w)
		}
	}
	if pct(all) < 100*minClassAccuracy {
		t.Errorf("%.1f%% of agents in the right class, want at least %.0f%%", pct(all), 100*minClassAccuracy)
	}
	if pct(apps) < 100*minAppAccuracy {
		t.Errorf("%.1f%% of previews and in-app browsers named by their app, want at least %.0f%%", pct(apps), 100*minAppAccuracy)
	}
}

// BenchmarkClassifyCorpusUncached classifies every agent of the corpus in
// turn without the cache: ns/op is the cost of one uncached classification,
// averaged over the mix of browsers, apps, previews and bots.
func BenchmarkClassifyCorpusUncached(b *testing.B) {
	c := NewClassifier()
	rows := loadCorpus(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.uncached(rows[i%len(rows)].ua, "")
		i++
	}
}

// BenchmarkClassifyCorpusCached classifies the corpus's agents in turn after
// each was classified twice, which caches it: the cost on the redirect path
// of a working set of several thousand agents.
func BenchmarkClassifyCorpusCached(b *testing.B) {
	c := NewClassifier()
	rows := loadCorpus(b)
	visits := make([]Visit, len(rows))
	for i, row := range rows {
		visits[i] = Visit{Method: "GET", UserAgent: row.ua, Referer: "https://mail.google.com/"}
		c.Classify(visits[i])
		c.Classify(visits[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Classify(visits[i%len(visits)])
		i++
	}
}
