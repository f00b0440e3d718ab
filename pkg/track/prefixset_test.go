package track

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The set answers as a scan of its prefixes does: at every range's edges
// and just past them, for IPv4-mapped IPv6 addresses, and at random.
func TestPrefixSetAgreesWithAScan(t *testing.T) {
	prefixes := append([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("10.1.0.0/16"), // inside the one before
		netip.MustParsePrefix("11.0.0.0/8"),  // adjacent: merged
		netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("0.0.0.0/32"),
		netip.MustParsePrefix("255.255.255.255/32"),
		netip.MustParsePrefix("2001:db8::1/64"), // not masked as written
	}, microsoftEOP...)
	set := newPrefixSet(prefixes)
	scan := func(ip netip.Addr) bool {
		ip = ip.Unmap()
		for _, p := range prefixes {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	var probes []netip.Addr
	for _, p := range prefixes {
		lo, hi := p.Masked().Addr(), lastAddr(p.Masked())
		probes = append(probes, lo, hi, lo.Prev(), hi.Next())
		if lo.Is4() {
			probes = append(probes, netip.AddrFrom16(lo.As16()), netip.AddrFrom16(hi.Next().As16()))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b4 [4]byte
		var b16 [16]byte
		for i := range b4 {
			b4[i] = byte(r.UintN(256))
		}
		for i := range b16 {
			b16[i] = byte(r.UintN(256))
		}
		b16[0], b16[1] = 0x26, 0x03 // near Microsoft's IPv6 ranges
		probes = append(probes, netip.AddrFrom4(b4), netip.AddrFrom16(b16))
	}
	in := 0
	for _, ip := range probes {
		if !ip.IsValid() {
			continue
		}
		want := scan(ip)
		if got := set.contains(ip); got != want {
			t.Errorf("contains(%s) = %v, a scan says %v", ip, got, want)
		}
		if want {
			in++
		}
	}
	if in < 100 {
		t.Fatalf("only %d probes inside: the test probes too little of the set", in)
	}
	if set.contains(netip.Addr{}) {
		t.Error("the zero address is in the set")
	}
}

func BenchmarkFromMicrosoftEOP(b *testing.B) {
	ip := netip.MustParseAddr("203.0.113.9")
	for b.Loop() {
		fromMicrosoftEOP(ip)
	}
}
