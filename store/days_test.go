package store

import (
	"maps"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/darkshare/darkshare/pkg/stats"
)

func TestRecordRoundTrip(t *testing.T) {
	sk := hyperloglog.New14()
	for i := range 1000 {
		sk.InsertHash(uint64(i) * 0x9E3779B97F4A7C15)
	}
	for name, r := range map[string]*stats.Record{
		"empty":          {Counts: map[stats.Metric]uint64{}},
		"counts":         {Counts: map[stats.Metric]uint64{stats.Clicks: 3, "ref:webmail": 2, "preview:whatsapp": 1 << 40}},
		"counts, sketch": {Counts: map[stats.Metric]uint64{stats.Clicks: 1000}, Visitors: sk},
	} {
		data, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeRecord(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !maps.Equal(back.Counts, r.Counts) || (r.Visitors == nil) != (back.Visitors == nil) ||
			(r.Visitors != nil && back.Visitors.Estimate() != r.Visitors.Estimate()) {
			t.Errorf("%s: %+v came back as %+v", name, r, back)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 0, 0}, {1}, {1, 0, 5}, {1, 0, 1, 200}, {1, 0, 1, 1, 'x'}, {1, 0, 0, 9, 9, 9}} {
		if _, err := decodeRecord(bad); err == nil {
			t.Errorf("decodeRecord(%v) accepted garbage", bad)
		}
	}
}

// FuzzDecodeRecord: stored bytes never crash a reader, both readers agree
// on the counters, and whatever decodes encodes to bytes that decode to
// the same counts.
func FuzzDecodeRecord(f *testing.F) {
	good, _ := encodeRecord(&stats.Record{Counts: map[stats.Metric]uint64{stats.Clicks: 7, "device:mobile": 3}})
	f.Add(good)
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		if err != nil {
			return
		}
		counts := map[stats.Metric]uint64{}
		if err := decodeCounts(data, counts, map[string]stats.Metric{}); err != nil {
			t.Fatalf("decodeRecord read %v, decodeCounts refused it: %v", data, err)
		}
		// Uniques comes from the stored estimate, which fuzzed bytes set at will.
		delete(counts, stats.Uniques)
		if !maps.Equal(counts, r.Counts) {
			t.Fatalf("decodeCounts %v, decodeRecord %v", counts, r.Counts)
		}
		again, err := encodeRecord(&r)
		if err != nil {
			return // a sketch that decodes but cannot encode: rejected on write
		}
		back, err := decodeRecord(again)
		if err != nil || !maps.Equal(back.Counts, r.Counts) {
			t.Fatalf("round trip of %v: %v, %v", data, back, err)
		}
	})
}

// A scan's counters, read without the sketch, are what decoding the whole
// record gives, the stored estimate being the sketch's.
func TestDecodeCountsAgreesWithDecodeRecord(t *testing.T) {
	sk := hyperloglog.New14()
	for i := range 300 {
		sk.InsertHash(uint64(i) * 0x9E3779B97F4A7C15)
	}
	data, err := encodeRecord(&stats.Record{Counts: map[stats.Metric]uint64{stats.Clicks: 9, stats.Shares: 4}, Visitors: sk})
	if err != nil {
		t.Fatal(err)
	}
	want := map[stats.Metric]uint64{stats.Clicks: 9, stats.Shares: 4, stats.Uniques: sk.Estimate()}
	r, err := decodeRecord(data)
	if err != nil || !maps.Equal(withUniques(&r), want) {
		t.Errorf("decodeRecord = %v, %v; want %v", r, err, want)
	}
	counts := map[stats.Metric]uint64{}
	if err := decodeCounts(data, counts, map[string]stats.Metric{}); err != nil || !maps.Equal(counts, want) {
		t.Errorf("decodeCounts = %v, %v; want %v", counts, err, want)
	}
}
