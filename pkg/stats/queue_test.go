package stats

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// Events of two codes that share a 64-bit hash are still summed apart.
func TestSummingKeepsCodesOfOneHashApart(t *testing.T) {
	clicks := mustID(Clicks)
	ev := func(code string) event {
		return event{pendingKey: pendingKey{7, DayKey{Code: code, Day: 20000}}, ids: [tallySlots]counterID{clicks}, n: 1}
	}
	p := &partition{events: []event{ev("a"), ev("b"), ev("a"), ev("b"), ev("b")}}
	var s summing
	n := p.takeInto(&s)
	deltas := s.appendSorted(nil)
	got := map[string]uint64{}
	for i := range deltas {
		got[deltas[i].Code] = maps.Collect(deltas[i].Counters())[Clicks]
	}
	if want := map[string]uint64{"a": 2, "b": 3}; n != 5 || len(deltas) != 2 || !maps.Equal(got, want) {
		t.Fatalf("%d events in %d deltas %v, want 5 in 2 deltas %v", n, len(deltas), got, want)
	}
}

// A flush's deltas come in DayKey order, each key once, whatever the
// codes: short, long, sharing their first 8 bytes or not.
func TestSummingSortsByDayKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	codes := []string{"a", "ab", "abcdefgh", "abcdefghi", "abcdefghj", "abcdefgi", "b", "~https://x.org/", "~https://x.org/a", "~", "Z", "_-"}
	a := NewAggregator(nil, nil)
	want := map[DayKey]uint64{}
	var s summing
	for range 2000 {
		k := a.key(codes[rng.IntN(len(codes))], Day(20000+rng.IntN(3)))
		s.of(&k).addID(mustID(Clicks), 1)
		want[k.DayKey]++
	}
	deltas := s.appendSorted(nil)
	if !slices.IsSortedFunc(deltas, func(x, y Delta) int { return x.DayKey.Compare(y.DayKey) }) {
		t.Fatal("deltas out of order")
	}
	got := map[DayKey]uint64{}
	for i := range deltas {
		if i > 0 && deltas[i-1].DayKey == deltas[i].DayKey {
			t.Fatalf("%v twice", deltas[i].DayKey)
		}
		got[deltas[i].DayKey] = maps.Collect(deltas[i].Counters())[Clicks]
	}
	if !maps.Equal(got, want) {
		t.Fatalf("summed %v, want %v", got, want)
	}
}
