package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// visibleTips returns the indexes of the days of chart id whose tooltip
// shows.
func visibleTips(t *testing.T, ctx context.Context, id string) []int {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll("#`+id+` g.day")]
		.map((g, i) => getComputedStyle(g.querySelector(".tip")).visibility === "visible" ? i : -1).filter(i => i >= 0)`))
}

// checkChartTooltips checks that chart id shows a day's tooltip on keyboard
// focus, moves it with the arrow keys, and shows one on hover: one
// tooltip at a time, in the day's own words.
func checkChartTooltips(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	// A headless tab is not focused, and nothing in it matches :focus,
	// unless told to behave as a focused one.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#`+id+` g.day").length`))
	if got := visibleTips(t, ctx, id); len(got) != 0 {
		t.Fatalf("%s: tooltips %v show before any hover or focus", id, got)
	}
	if got := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#`+id+` g.day[tabindex='0']").length`)); got != 1 {
		t.Errorf("%s: %d days in the Tab order, want 1 (arrow keys move on)", id, got)
	}
	run(t, ctx, chromedp.Focus(chromedp.CSS("#"+id+" g.day[tabindex='0']")))
	if got := visibleTips(t, ctx, id); len(got) != 1 || got[0] != n-1 {
		t.Fatalf("%s: focus on the last day shows tooltips %v, want [%d]", id, got, n-1)
	}
	tip := get(t, ctx, chromedp.Evaluate[string](`document.activeElement.querySelector(".tip").textContent`))
	label := get(t, ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("aria-label")`))
	if !strings.Contains(tip, " clicks") || !strings.Contains(label, " clicks") {
		t.Errorf("%s: the focused day's tooltip %q, label %q, want its clicks", id, tip, label)
	}
	run(t, ctx, chromedp.KeyEvent(kb.ArrowLeft))
	if got := visibleTips(t, ctx, id); len(got) != 1 || got[0] != n-2 {
		t.Errorf("%s: after ArrowLeft tooltips %v show, want [%d]", id, got, n-2)
	}
	// The mouse over the fifth day: its tooltip, and no other.
	box := get(t, ctx, chromedp.Evaluate[[]float64](`(() => {
		const r = document.querySelectorAll("#`+id+` g.day .hit")[4].getBoundingClientRect();
		return [r.x + r.width / 2, r.y + r.height / 2];
	})()`))
	run(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0], box[1]))
	if got := visibleTips(t, ctx, id); len(got) != 1 || got[0] != 4 {
		t.Errorf("%s: hovering the fifth day shows tooltips %v, want [4]", id, got)
	}
	run(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
}

// checkStatsExports fetches the CSV and JSON exports the stats page links
// to, and checks they hold what the page shows: the clicks card and the
// rows of the days table.
func checkStatsExports(t *testing.T, ctx context.Context) {
	t.Helper()
	fetch := func(id string) string {
		return get(t, ctx, chromedp.Evaluate[string](`fetch(document.getElementById("`+id+`").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	}
	clicks := get(t, ctx, chromedp.Text(chromedp.ID("clicks-total")))
	records, err := csv.NewReader(strings.NewReader(fetch("export-csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	days := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.days tbody tr").length`))
	if len(records) != 1+days || strings.Join(records[0], ",") != strings.Join(exportColumns, ",") {
		t.Fatalf("CSV export %q: want the export's columns and %d days", records, days)
	}
	var sum int
	for _, r := range records[1:] {
		var n int
		if err := json.Unmarshal([]byte(r[6]), &n); err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if want := mustAtoi(t, clicks); sum != want {
		t.Errorf("the CSV export's clicks add up to %d, the page says %d", sum, want)
	}
	var js linkPeriodStats
	if err := json.Unmarshal([]byte(fetch("export-json")), &js); err != nil {
		t.Fatal(err)
	}
	if int(js.Clicks) != mustAtoi(t, clicks) || len(js.Days) != days || js.From == "" || js.To == "" {
		t.Errorf("JSON export: %d clicks over %d days from %q to %q; the page says %s clicks over %d days", js.Clicks, len(js.Days), js.From, js.To, clicks, days)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// checkLaptopLayout checks the page at laptop sizes: the period form on
// one line, no sideways scrolling, and every table's headers aligned as
// their columns' cells are. It leaves the viewport at 1280×900.
func checkLaptopLayout(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, size := range [][2]int64{{1366, 768}, {1280, 800}} {
		run(t, ctx, chromedp.EmulateViewport(size[0], size[1]))
		lines := get(t, ctx, chromedp.Evaluate[int](`new Set([...document.querySelectorAll("form.period fieldset > :not(legend):not([type=hidden])")]
			.map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))).size`))
		if lines > 1 { // 0: the page has no period form
			t.Errorf("at %dpx wide the period form takes %d lines, want 1", size[0], lines)
		}
		if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > int(size[0]) {
			t.Errorf("at %dpx wide the page is %dpx wide: it scrolls sideways", size[0], w)
		}
		// Tables fit: at laptop size nothing hides in a sideways scroll.
		if clipped := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".table-scroll")]
			.filter(d => d.scrollWidth > d.clientWidth + 1).map(d => d.firstElementChild.id || d.firstElementChild.className)`)); len(clipped) != 0 {
			t.Errorf("at %dpx wide these tables scroll sideways: %q", size[0], clipped)
		}
		misaligned := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main table")].flatMap(table => {
			const heads = [...table.querySelectorAll("thead th")], row = table.querySelector("tbody tr");
			if (!row) return [];
			return heads.map((th, i) => [th, row.cells[i]]).filter(([th, td]) => td &&
				getComputedStyle(th).textAlign !== getComputedStyle(td).textAlign)
				.map(([th, td]) => (table.id || table.className) + ": " + th.textContent + " is " + getComputedStyle(th).textAlign + ", its cells " + getComputedStyle(td).textAlign);
		})`))
		for _, m := range misaligned {
			t.Errorf("at %dpx wide: %s", size[0], m)
		}
	}
	run(t, ctx, chromedp.EmulateViewport(1280, 900))
}
