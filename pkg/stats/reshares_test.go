package stats_test

import (
	"maps"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
)

// Reshares count on the link that brought the reader, in total and by the
// new share's channel, before a flush and after one; the amplification
// reads them against the link's clicks.
func TestRecordReshare(t *testing.T) {
	db, _ := openTemp(t)
	agg := stats.NewAggregator(db, discard)
	const code, day = "emailCode1", stats.Day(20500)
	for range 4 {
		agg.Add(code, day, stats.Clicks)
	}
	agg.RecordReshare(code, day, "whatsapp")
	agg.RecordReshare(code, day, "whatsapp")
	agg.RecordReshare(code, day+1, "email")
	for _, stage := range []string{"pending", "flushed"} {
		sum, err := agg.Summary(ctx, code, allDays)
		if err != nil {
			t.Fatal(err)
		}
		b := stats.BreakdownOf(sum.Totals)
		if want := map[string]uint64{"whatsapp": 2, "email": 1}; b.Reshares != 3 || !maps.Equal(b.ResharesByChannel, want) {
			t.Errorf("%s: reshares %d by %v, want 3 by %v", stage, b.Reshares, b.ResharesByChannel, want)
		}
		a := stats.AmplificationOf(b)
		if a.Clicks != 4 || a.Reshares != 3 || a.ResharesPerClick != 0.75 || a.MostlyTo != "whatsapp" {
			t.Errorf("%s: amplification %+v, want 3 reshares of 4 clicks, mostly to whatsapp", stage, a)
		}
		if err := agg.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAmplificationOf(t *testing.T) {
	for _, tt := range []struct {
		name     string
		b        stats.Breakdown
		perClick float64
		mostly   string
	}{
		{"nothing", stats.BreakdownOf(nil), 0, ""},
		{"reshares without clicks", stats.BreakdownOf(map[stats.Metric]uint64{"reshares:sms": 2}), 0, "sms"},
		{"a tie goes to the first name", stats.BreakdownOf(map[stats.Metric]uint64{"clicks": 8, "reshares:sms": 1, "reshares:email": 1}), 0.25, "email"},
		// Older records also hold the total as "reshares": not counted twice.
		{"an old total beside its channels", stats.BreakdownOf(map[stats.Metric]uint64{"clicks": 8, "reshares": 2, "reshares:sms": 1, "reshares:email": 1}), 0.25, "email"},
	} {
		a := stats.AmplificationOf(tt.b)
		if a.ResharesPerClick != tt.perClick || a.MostlyTo != tt.mostly {
			t.Errorf("%s: %+v, want %v a click, mostly to %q", tt.name, a, tt.perClick, tt.mostly)
		}
	}
}
