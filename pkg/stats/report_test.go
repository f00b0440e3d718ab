package stats_test

import (
	"maps"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/storetest"
)

// Scan sees each key and day once, with folded, flushed and pending counts
// added up and one visitor seen in all three counted once.
func TestScanMergesEveryPlaceOnce(t *testing.T) {
	db := storetest.MustOpen(t)
	agg := stats.NewAggregator(db, discard)
	if err := agg.Open(ctx); err != nil {
		t.Fatal(err)
	}
	const day = stats.Day(20400)
	click := func(code string, d stats.Day) {
		agg.Add(code, d, stats.Clicks)
		agg.AddVisitor(code, d, 42)
	}
	click("aaa", day)
	click("bbb", day+1)
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agg.Fold(ctx); err != nil { // folded
		t.Fatal(err)
	}
	click("aaa", day)
	click("ddd", day)
	if err := agg.Flush(ctx); err != nil { // flushed, unfolded
		t.Fatal(err)
	}
	// Two flushed runs of one link-day: the next two steps of the round
	// merge partitions 2 and 3, so the code must be in another.
	twice := "eee"
	for stats.PartitionOf(twice) <= 3 {
		twice += "e"
	}
	for range 2 {
		click(twice, day)
		if err := agg.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	click(twice, day)
	click("aaa", day) // pending
	click("ccc", day) // pending only
	click("zzz", day+5)

	type seen struct{ clicks, uniques uint64 }
	scan := func() (map[string]seen, []string) {
		got := map[string]seen{}
		var order []string
		err := agg.Scan(ctx, stats.Period{From: day, To: day + 1}, func(kc stats.KeyCounts) error {
			k := kc.Key + "@" + kc.Day.String()
			if _, dup := got[k]; dup {
				t.Errorf("%s seen twice", k)
			}
			got[k] = seen{kc.Counts[stats.Clicks], kc.Counts[stats.Uniques]}
			order = append(order, k)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, order
	}
	got, order := scan()
	// A scan reads the counts in memory without changing them.
	if again, _ := scan(); !maps.Equal(again, got) {
		t.Fatalf("a second scan read %v, the first %v", again, got)
	}
	want := map[string]seen{
		"aaa@" + day.String():       {3, 1},
		"ccc@" + day.String():       {1, 1},
		"ddd@" + day.String():       {1, 1},
		twice + "@" + day.String():  {3, 1},
		"bbb@" + (day + 1).String(): {1, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("scanned %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	if order[0] != "aaa@"+day.String() || order[len(order)-1] != "bbb@"+(day+1).String() {
		t.Errorf("order %v: want day by day, keys in order", order)
	}
	if err := agg.Scan(ctx, stats.Period{From: day, To: day - 1}, func(stats.KeyCounts) error { return nil }); err == nil {
		t.Error("a period out of order was scanned")
	}
}
