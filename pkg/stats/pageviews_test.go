package stats_test

import (
	"maps"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/pkg/track"
	"github.com/darkshare/darkshare/store/storetest"
)

// Views count under their page and the site, pending, then flushed, then
// folded, then read after a restart: the same numbers at every stage.
func TestRecordViewCountsPageAndSite(t *testing.T) {
	db, path := openTemp(t)
	agg := stats.NewAggregator(db, discard)
	const a, b = "https://news.example.org/a", "https://news.example.org/b"
	const day = stats.Day(20500)
	for _, v := range []struct {
		page string
		l    track.Landing
	}{
		{a, track.LandingShortLink}, {a, track.LandingDarkSocial}, {a, track.LandingDarkSocial},
		{a, track.LandingSearch}, {b, track.LandingInternal}, {b, track.LandingDirectHome},
	} {
		agg.RecordView(v.page, day, v.l)
	}
	agg.RecordView(a, day, track.LandingInternal+1) // out of range: not counted
	agg.RecordView(a, day+1, track.LandingSocial)

	want := map[string]map[stats.Metric]uint64{
		stats.PageKey(a): {"view:short-link": 1, "view:dark-social": 2, "view:search": 1, "view:social": 1},
		stats.PageKey(b): {"view:internal": 1, "view:direct-home": 1},
		stats.SiteKey: {"view:short-link": 1, "view:dark-social": 2, "view:search": 1, "view:social": 1,
			"view:internal": 1, "view:direct-home": 1},
	}
	check := func(stage string, agg *stats.Aggregator) {
		t.Helper()
		for key, counts := range want {
			sum, err := agg.Summary(ctx, key, allDays)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(sum.Totals, counts) {
				t.Errorf("%s: %q has %v, want %v", stage, key, sum.Totals, counts)
			}
		}
	}
	check("pending", agg)
	if n := agg.Pending(); n != 14 {
		t.Errorf("%d events pending, want 14 (7 views, each under page and site)", n)
	}
	if err := agg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("flushed", agg)
	if err := db.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	check("folded", agg)
	db = storetest.Reopen(t, db, path)
	check("reopened", stats.NewAggregator(db, discard))
}

func TestRecordViewBuildsNoMetricName(t *testing.T) {
	agg := stats.NewAggregator(storetest.MustOpen(t), discard)
	const page = "https://news.example.org/a"
	agg.RecordView(page, 1, track.LandingSocial) // the records exist from now on
	// PageKey's concatenation is the one allocation: the key is kept.
	if n := testing.AllocsPerRun(100, func() { agg.RecordView(page, 1, track.LandingSocial) }); n > 1 {
		t.Errorf("RecordView allocates %v times, want at most 1", n)
	}
}

func TestViewBreakdownOf(t *testing.T) {
	for _, tt := range []struct {
		name   string
		counts map[stats.Metric]uint64
		total  uint64
		dark   uint64
		share  float64
	}{
		{"none", nil, 0, 0, 0},
		{"only clicks", map[stats.Metric]uint64{stats.Clicks: 5}, 0, 0, 0},
		{"all dark", map[stats.Metric]uint64{"view:short-link": 2, "view:dark-social": 2}, 4, 4, 1},
		{"a quarter", map[stats.Metric]uint64{"view:dark-social": 1, "view:social": 1, "view:internal": 2, stats.Clicks: 9}, 4, 1, 0.25},
		{"a class from a newer version", map[stats.Metric]uint64{"view:short-link": 1, "view:ai-assistant": 1}, 2, 1, 0.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := stats.ViewBreakdownOf(tt.counts)
			if v.Total != tt.total || v.DarkSocial != tt.dark || v.DarkSocialShare != tt.share {
				t.Errorf("total %d, dark %d, share %v; want %d, %d, %v", v.Total, v.DarkSocial, v.DarkSocialShare, tt.total, tt.dark, tt.share)
			}
			for l := range track.LandingInternal + 1 {
				if _, ok := v.ByClass[l.String()]; !ok {
					t.Errorf("by_class lacks %s", l)
				}
			}
			var sum uint64
			for _, n := range v.ByClass {
				sum += n
			}
			if sum != v.Total {
				t.Errorf("by_class adds up to %d, total is %d", sum, v.Total)
			}
		})
	}
}
