package stats

import (
	"maps"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// A record moved through DeltaOf comes out the same: every counter, and
// a sketch that estimates the same, whether it held a few visitors or
// many; and the delta survives its binary form, as a store's log keeps it.
func TestDeltaOfMakesTheRecordAgain(t *testing.T) {
	sketchOf := func(n int) *hyperloglog.Sketch {
		sk := hyperloglog.New14()
		for i := range n {
			sk.InsertHash(uint64(i) * 0x9e3779b97f4a7c15)
		}
		return sk
	}
	for _, tc := range []struct {
		name string
		r    Record
	}{
		{"counters only", Record{Counts: map[Metric]uint64{Clicks: 3, Bots: 1}}},
		{"more counters than slots", Record{Counts: map[Metric]uint64{Clicks: 3, Shares: 2, Bots: 1, Scanners: 4, "ref:webmail": 5, "device:desktop": 6}}},
		{"a few visitors", Record{Counts: map[Metric]uint64{Clicks: 3}, Visitors: sketchOf(3)}},
		{"many visitors", Record{Counts: map[Metric]uint64{Clicks: 50_000}, Visitors: sketchOf(40_000)}},
		{"nothing", Record{Counts: map[Metric]uint64{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DeltaOf(DayKey{Code: "abc", Day: 20000}, tc.r)
			for _, d := range []*Delta{&d, throughBinary(t, &d)} {
				var got Record
				if err := d.AddTo(&got); err != nil {
					t.Fatal(err)
				}
				want := maps.Clone(tc.r.Counts)
				if tc.r.Visitors != nil {
					want[Uniques] = tc.r.Visitors.Estimate()
				}
				if g := got.withUniques(); !maps.Equal(g, want) {
					t.Fatalf("moved record counts %v, want %v", g, want)
				}
			}
		})
	}
}

// The delta is the caller's: adding to it leaves the record alone.
func TestDeltaOfSharesNothing(t *testing.T) {
	sk := hyperloglog.New14()
	sk.InsertHash(1)
	r := Record{Counts: map[Metric]uint64{Clicks: 1}, Visitors: sk}
	d := DeltaOf(DayKey{Code: "abc"}, r)
	d.Add(Clicks, 5)
	for i := range 100 {
		d.AddVisitor(uint64(i+2) << 40)
	}
	if r.Counts[Clicks] != 1 || sk.Estimate() != 1 {
		t.Fatalf("the record changed: %v clicks, %d visitors", r.Counts[Clicks], sk.Estimate())
	}
}
