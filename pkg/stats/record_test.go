package stats

import (
	"maps"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

func TestRecordRoundTrip(t *testing.T) {
	sk := hyperloglog.New14()
	for i := range 1000 {
		sk.InsertHash(uint64(i) * 0x9E3779B97F4A7C15)
	}
	for name, r := range map[string]*Record{
		"empty":          {Counts: map[Metric]uint64{}},
		"counts":         {Counts: map[Metric]uint64{Clicks: 3, "ref:webmail": 2, "preview:whatsapp": 1 << 40}},
		"counts, sketch": {Counts: map[Metric]uint64{Clicks: 1000}, Visitors: sk},
	} {
		data, err := EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeRecord(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !maps.Equal(back.Counts, r.Counts) || (r.Visitors == nil) != (back.Visitors == nil) ||
			(r.Visitors != nil && back.Visitors.Estimate() != r.Visitors.Estimate()) {
			t.Errorf("%s: %+v came back as %+v", name, r, back)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 0, 0}, {1}, {1, 0, 5}, {1, 0, 1, 200}, {1, 0, 1, 1, 'x'}, {1, 0, 0, 9, 9, 9}} {
		if _, err := DecodeRecord(bad); err == nil {
			t.Errorf("DecodeRecord(%v) accepted garbage", bad)
		}
	}
}

// FuzzDecodeRecord: stored bytes never crash a reader, and whatever decodes
// encodes to bytes that decode to the same counts.
func FuzzDecodeRecord(f *testing.F) {
	good, _ := EncodeRecord(&Record{Counts: map[Metric]uint64{Clicks: 7, "device:mobile": 3}})
	f.Add(good)
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRecord(data)
		if err != nil {
			return
		}
		counts := map[Metric]uint64{}
		if err := decodeCounts(data, counts, map[string]Metric{}); err != nil {
			t.Fatalf("DecodeRecord read %v, decodeCounts refused it: %v", data, err)
		}
		// Uniques comes from the stored estimate, which fuzzed bytes set at will.
		decoded := maps.Clone(r.Counts)
		delete(counts, Uniques)
		delete(decoded, Uniques)
		if !maps.Equal(counts, decoded) && !hasDuplicateNames(data) {
			t.Fatalf("decodeCounts %v, DecodeRecord %v", counts, r.Counts)
		}
		again, err := EncodeRecord(r)
		if err != nil {
			return // a sketch that decodes but cannot encode: rejected on write
		}
		back, err := DecodeRecord(again)
		if err != nil || !maps.Equal(back.Counts, r.Counts) {
			t.Fatalf("round trip of %v: %v, %v", data, back, err)
		}
	})
}

// A record's counters read without its sketch are what decoding the whole
// record gives, the stored estimate being the sketch's.
func TestDecodeCountsAgreesWithDecodeRecord(t *testing.T) {
	sk := hyperloglog.New14()
	for i := range 300 {
		sk.InsertHash(uint64(i) * 0x9E3779B97F4A7C15)
	}
	data, err := EncodeRecord(&Record{Counts: map[Metric]uint64{Clicks: 9, Shares: 4}, Visitors: sk})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Metric]uint64{Clicks: 9, Shares: 4, Uniques: sk.Estimate()}
	r, err := DecodeRecord(data)
	if err != nil || !maps.Equal(r.withUniques(), want) {
		t.Errorf("DecodeRecord = %v, %v; want %v", r, err, want)
	}
	counts := map[Metric]uint64{}
	if err := decodeCounts(data, counts, map[string]Metric{}); err != nil || !maps.Equal(counts, want) {
		t.Errorf("decodeCounts = %v, %v; want %v", counts, err, want)
	}
}

// hasDuplicateNames reports whether a record names a counter twice, which
// EncodeRecord never writes: DecodeRecord keeps the last, decodeCounts adds.
func hasDuplicateNames(data []byte) bool {
	seen := map[string]bool{}
	dup := false
	_, _, _ = readCounters(data, func(name []byte, _ uint64) {
		dup = dup || seen[string(name)]
		seen[string(name)] = true
	})
	return dup
}
