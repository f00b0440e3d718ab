package stats_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/storetest"
)

// Scan sees each key and day once, with counts in every place added up
// (folded into day records, in the store's memory and log, held by a failed
// flush, queued) and one visitor seen in all of them counted once.
func TestScanMergesEveryPlaceOnce(t *testing.T) {
	db := storetest.MustOpen(t)
	fs := &flakyStore{Store: db}
	agg := stats.NewAggregator(fs, discard)
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
	if err := db.Fold(ctx); err != nil { // folded
		t.Fatal(err)
	}
	click("aaa", day)
	click("ddd", day)
	if err := agg.Flush(ctx); err != nil { // in the store, unfolded
		t.Fatal(err)
	}
	click("aaa", day)
	click("eee", day)
	fs.fail.Store(true)
	if err := agg.Flush(ctx); err == nil { // held
		t.Fatal("a flush to a failing store succeeded")
	}
	fs.fail.Store(false)
	click("aaa", day) // queued
	click("ccc", day) // queued only
	click("eee", day)
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
		"aaa@" + day.String():       {4, 1},
		"ccc@" + day.String():       {1, 1},
		"ddd@" + day.String():       {1, 1},
		"eee@" + day.String():       {2, 1},
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
	if want := []string{"aaa@" + day.String(), "ccc@" + day.String(), "ddd@" + day.String(), "eee@" + day.String(), "bbb@" + (day + 1).String()}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v: day by day, keys in order", order, want)
	}
	if err := agg.Scan(ctx, stats.Period{From: day, To: day - 1}, func(stats.KeyCounts) error { return nil }); err == nil {
		t.Error("a period out of order was scanned")
	}
}
