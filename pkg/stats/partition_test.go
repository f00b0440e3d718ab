package stats

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
)

// Runs merged into one hold each link-day once, in key order, with the sum
// of its counts in every run; find reads a code's days back from it.
func TestMergeRunsSumsEachLinkDayOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := NewAggregator(nil, nil)
	want := map[DayKey]uint64{}
	var runs []run
	for range 7 {
		var records []pendingRecord
		for range rng.IntN(300) {
			k := DayKey{Code: fmt.Sprint("c", rng.IntN(40)), Day: Day(20000 + rng.IntN(5))}
			n := uint64(1 + rng.IntN(3))
			r := pendingRecord{pendingKey: pendingKey{a.hash(k.Code), k}}
			r.t.add(Clicks, n)
			records = append(records, r)
			want[k] += n
		}
		runs = append(runs, normalize(records))
	}
	merged := mergeRuns(runs)
	got := map[DayKey]uint64{}
	for i := range merged {
		if i > 0 && compareKeys(&merged[i-1].pendingKey, &merged[i].pendingKey) >= 0 {
			t.Fatalf("records %d and %d out of order: %v, %v", i-1, i, merged[i-1].DayKey, merged[i].DayKey)
		}
		got[merged[i].DayKey] = countsOf(&merged[i].t)[Clicks]
	}
	if !maps.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	period := Period{From: 20001, To: 20003}
	found := map[DayKey]uint64{}
	merged.find(a.hash("c7"), "c7", period, func(r *pendingRecord) { found[r.DayKey] = countsOf(&r.t)[Clicks] })
	for k, n := range want {
		if k.Code == "c7" && period.Contains(k.Day) && found[k] != n {
			t.Errorf("find: %v has %d, want %d", k, found[k], n)
		}
	}
	if len(found) == 0 || len(found) > 3 {
		t.Errorf("find gave %v", found)
	}
}

// Events of two codes that share a 64-bit hash are still summed apart.
func TestTakeEventsKeepsCodesOfOneHashApart(t *testing.T) {
	clicks := mustID(Clicks)
	ev := func(code string) event {
		return event{pendingKey: pendingKey{7, DayKey{Code: code, Day: 20000}}, ids: [tallySlots]counterID{clicks}, n: 1}
	}
	p := &partition{events: []event{ev("a"), ev("b"), ev("a"), ev("b"), ev("b")}}
	records, n := p.takeEvents(nil, &summing{})
	got := map[string]uint64{}
	for i := range records {
		got[records[i].Code] = countsOf(&records[i].t)[Clicks]
	}
	if want := map[string]uint64{"a": 2, "b": 3}; n != 5 || len(records) != 2 || !maps.Equal(got, want) {
		t.Fatalf("%d events in %d records %v, want 5 in 2 records %v", n, len(records), got, want)
	}
	if compareKeys(&records[0].pendingKey, &records[1].pendingKey) >= 0 {
		t.Fatalf("records out of order: %v, %v", records[0].DayKey, records[1].DayKey)
	}
}
