package stats

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// throughLog returns tl as the log and checkpoints hold it, read back.
func throughLog(t *testing.T, tl *tally) *tally {
	t.Helper()
	data, err := tl.appendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeTally(data)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// countsOf reads a tally as reports do.
func countsOf(t *tally) map[Metric]uint64 {
	c := map[Metric]uint64{}
	t.countsInto(c)
	return c
}

// A tally holds what a Record would, however many counters and visitors it
// gets, and keeps it through the log's encoding and through a merge.
func TestTallyCountsLikeARecord(t *testing.T) {
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got tally
			want := newRecord()
			for _, m := range tc.metrics {
				got.add(m, 1)
				want.Counts[m]++
			}
			for _, v := range tc.visitors {
				got.addVisitor(v * 0x9E3779B97F4A7C15) // IDs are hashes: well mixed
			}
			distinct := map[uint64]bool{}
			for _, v := range tc.visitors {
				distinct[v] = true
			}
			wantCounts := maps.Clone(want.Counts)
			if len(distinct) > 0 {
				wantCounts[Uniques] = uint64(len(distinct))
			}
			if c := countsOf(&got); !maps.Equal(c, wantCounts) {
				t.Fatalf("counts %v, want %v", c, wantCounts)
			}
			if r := got.record().withUniques(); !maps.Equal(r, wantCounts) {
				t.Fatalf("as a record %v, want %v", r, wantCounts)
			}
			if got.events() != int64(len(tc.metrics)) {
				t.Fatalf("events %d, want %d", got.events(), len(tc.metrics))
			}
			back := throughLog(t, &got)
			if c := countsOf(back); !maps.Equal(c, wantCounts) {
				t.Fatalf("decoded %v, want %v", c, wantCounts)
			}
			// Merged into itself: counters double, visitors stay.
			twice := got.clone()
			twice.merge(&got)
			doubled := maps.Clone(wantCounts)
			for m := range doubled {
				if m != Uniques {
					doubled[m] *= 2
				}
			}
			if c := countsOf(twice); !maps.Equal(c, doubled) {
				t.Fatalf("merged with itself %v, want %v", c, doubled)
			}
			if c := countsOf(&got); !maps.Equal(c, wantCounts) {
				t.Fatalf("a merge changed its source: %v", c)
			}
		})
	}
}

// FuzzDecodeBatch: log and checkpoint bytes never crash Open, and what
// decodes encodes back to the same counts.
func FuzzDecodeBatch(f *testing.F) {
	var one tally
	one.add(Clicks, 2)
	one.addVisitor(42)
	good, _ := encodeBatch(nil, []pendingRecord{{pendingKey: pendingKey{DayKey: DayKey{Code: "abc", Day: 20000}}, t: one}})
	f.Add(good)
	f.Add([]byte{1, 'x', 0, 2, 3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		records, err := decodeBatch(data)
		if err != nil {
			return
		}
		again, err := encodeBatch(nil, records)
		if err != nil {
			return // a sketch that decodes but cannot encode: rejected on write
		}
		back, err := decodeBatch(again)
		if err != nil || len(back) != len(records) {
			t.Fatalf("round trip of %v: %d records, %v", data, len(back), err)
		}
		for i := range back {
			if back[i].DayKey != records[i].DayKey || !maps.Equal(countsOf(&back[i].t), countsOf(&records[i].t)) {
				t.Fatalf("record %d: %+v came back as %+v", i, countsOf(&records[i].t), countsOf(&back[i].t))
			}
		}
	})
}

// A tally keeps of a visitor ID only what a sketch keeps: sketches fed the
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
// at its bound; a tally then counts further names in its extra Record,
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
	var got tally
	got.add("m7", 2)
	got.add("one too many", 3)
	want := map[Metric]uint64{"m7": 2, "one too many": 3}
	if c := countsOf(&got); !maps.Equal(c, want) {
		t.Fatalf("counts %v, want %v", c, want)
	}
	if c := countsOf(throughLog(t, &got)); !maps.Equal(c, want) {
		t.Fatalf("decoded counts %v, want %v", c, want)
	}
}
