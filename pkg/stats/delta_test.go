package stats

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// throughBinary returns d as AppendBinary writes it, read back.
func throughBinary(t *testing.T, d *Delta) *Delta {
	t.Helper()
	data, err := d.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	back := &Delta{DayKey: d.DayKey}
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	return back
}

// countsOf reads a delta as a store would: its counters, and the estimate
// of the sketch it adds to as Uniques.
func countsOf(t *testing.T, d *Delta) map[Metric]uint64 {
	t.Helper()
	c := maps.Collect(d.Counters())
	if d.HasVisitors() {
		sk := hyperloglog.New14()
		if err := d.AddVisitorsTo(sk); err != nil {
			t.Fatal(err)
		}
		c[Uniques] = sk.Estimate()
	}
	return c
}

// A delta holds what a Record would, however many counters and visitors
// it gets, and keeps it through its binary form and through a merge.
func TestDeltaCountsLikeARecord(t *testing.T) {
	for _, tc := range []struct {
		name     string
		metrics  []Metric
		visitors []uint64
	}{
		{"nothing", nil, nil},
		{"a click", []Metric{Clicks, "ref:webmail", "device:desktop"}, []uint64{7}},
		{"a visitor twice", []Metric{Clicks, Clicks}, []uint64{7, 7}},
		{"two visitors, exact", []Metric{Clicks, Clicks}, []uint64{7, 8}},
		{"three visitors, a sketch", []Metric{Clicks, Clicks, Clicks}, []uint64{7, 8, 9}},
		{"more counters than slots", []Metric{Clicks, "ref:webmail", "device:desktop", "inapp:slack", "preview:whatsapp", Bots}, nil},
		{"many of everything", []Metric{Clicks, Shares, Bots, Scanners, "a", "b", "c", Clicks}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"uniques is no counter", []Metric{Uniques, Clicks}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Delta{DayKey: DayKey{Code: "abc", Day: 20000}}
			want := map[Metric]uint64{}
			events := int64(0)
			for _, m := range tc.metrics {
				got.Add(m, 1)
				if m != Uniques {
					want[m]++
					events++
				}
			}
			distinct := map[uint64]bool{}
			for _, v := range tc.visitors {
				got.AddVisitor(v * 0x9E3779B97F4A7C15) // IDs are hashes: well mixed
				distinct[v] = true
			}
			if len(distinct) > 0 {
				want[Uniques] = uint64(len(distinct))
			}
			if c := countsOf(t, &got); !maps.Equal(c, want) {
				t.Fatalf("counts %v, want %v", c, want)
			}
			var r Record
			if err := got.AddTo(&r); err != nil || !maps.Equal(r.withUniques(), want) {
				t.Fatalf("as a record %v (%v), want %v", r.Counts, err, want)
			}
			if n := got.events(); n != events {
				t.Fatalf("events %d, want %d", n, events)
			}
			if c := countsOf(t, throughBinary(t, &got)); !maps.Equal(c, want) {
				t.Fatalf("decoded %v, want %v", c, want)
			}
			// Merged into a clone of itself: counters double, visitors
			// stay, and neither the source nor the original changes.
			twice := got.Clone()
			twice.Merge(&got)
			doubled := maps.Clone(want)
			for m := range doubled {
				if m != Uniques {
					doubled[m] *= 2
				}
			}
			if c := countsOf(t, &twice); !maps.Equal(c, doubled) {
				t.Fatalf("merged with itself %v, want %v", c, doubled)
			}
			if c := countsOf(t, &got); !maps.Equal(c, want) {
				t.Fatalf("a merge into a clone changed the original: %v", c)
			}
		})
	}
}

// FuzzDeltaBinary: bytes of a log never crash a reader, and what decodes
// encodes back to the same counts.
func FuzzDeltaBinary(f *testing.F) {
	var one Delta
	one.Add(Clicks, 2)
	one.AddVisitor(42)
	good, _ := one.AppendBinary(nil)
	f.Add(good)
	var many Delta
	for i := range 5 {
		many.Add(Metric(fmt.Sprint("m", i)), uint64(i+1))
		many.AddVisitor(uint64(i) << 50)
	}
	good, _ = many.AppendBinary(nil)
	f.Add(good)
	f.Add([]byte{1, 1, 'x', 0, 2, 3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Delta
		if err := d.UnmarshalBinary(data); err != nil {
			return
		}
		again, err := d.AppendBinary(nil)
		if err != nil {
			return // a sketch that decodes but cannot encode
		}
		var back Delta
		if err := back.UnmarshalBinary(again); err != nil {
			t.Fatalf("round trip of %v: %v", data, err)
		}
		if !maps.Equal(countsOf(t, &back), countsOf(t, &d)) {
			t.Fatalf("%v came back as %v", countsOf(t, &d), countsOf(t, &back))
		}
	})
}

// A delta keeps of a visitor ID only what a sketch keeps: sketches fed the
// whole IDs and the kept bits are the same, byte for byte, sparse or dense.
func TestSketchBitsKeepTheSketch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 100, 20_000} {
		whole, kept := hyperloglog.New14(), hyperloglog.New14()
		for range n {
			v := rng.Uint64()
			if sketchBits(v)&(1<<39-1)&(sketchBits(v)&(1<<39-1)-1) != 0 {
				t.Fatalf("sketchBits(%x) = %x keeps more than one of the low bits", v, sketchBits(v))
			}
			whole.InsertHash(v)
			kept.InsertHash(sketchBits(v))
		}
		a, _ := whole.MarshalBinary()
		b, _ := kept.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("%d visitors: the sketches differ", n)
		}
	}
}

// The counter table hands out one id per name, gives names back, and stops
// at its bound; a delta then counts further names in its extra Record,
// by name, and still reads and encodes them.
func TestCounterTableIsBounded(t *testing.T) {
	table := newCounterTable()
	for i := range maxCounterIDs {
		if id, ok := table.idOf(Metric(fmt.Sprint("m", i))); !ok || int(id) != i {
			t.Fatalf("name %d: id %d, %v", i, id, ok)
		}
	}
	if id, ok := table.idOf("m7"); !ok || id != 7 || table.name(id) != "m7" {
		t.Fatalf("m7 again: id %d, %v, name %q", id, ok, table.name(id))
	}
	if _, ok := table.idOf("one too many"); ok {
		t.Fatal("an id past the bound")
	}

	saved := counterIDs
	counterIDs = table // no test in this package runs in parallel
	t.Cleanup(func() { counterIDs = saved })
	var got Delta
	got.Add("m7", 2)
	got.Add("one too many", 3)
	want := map[Metric]uint64{"m7": 2, "one too many": 3}
	if c := countsOf(t, &got); !maps.Equal(c, want) {
		t.Fatalf("counts %v, want %v", c, want)
	}
	if c := countsOf(t, throughBinary(t, &got)); !maps.Equal(c, want) {
		t.Fatalf("decoded counts %v, want %v", c, want)
	}
}
