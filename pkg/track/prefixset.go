package track

import (
	"net/netip"
	"slices"
	"sort"
)

// prefixSet tells whether an address lies in any of a list of prefixes by a
// binary search over their merged ranges. It is asked on every redirect,
// cached verdict or not, and the providers' published lists are long: a
// scan of Microsoft's 42 prefixes cost more than the cached verdict itself.
type prefixSet struct {
	first, last []netip.Addr // range i is first[i]..last[i]; sorted, apart
}

func newPrefixSet(prefixes []netip.Prefix) prefixSet {
	sorted := slices.Clone(prefixes)
	for i, p := range sorted {
		sorted[i] = p.Masked()
	}
	slices.SortFunc(sorted, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	var s prefixSet
	for _, p := range sorted {
		lo, hi := p.Addr(), lastAddr(p)
		if n := len(s.last); n > 0 && lo.BitLen() == s.last[n-1].BitLen() && lo.Compare(s.last[n-1].Next()) <= 0 {
			if hi.Compare(s.last[n-1]) > 0 {
				s.last[n-1] = hi
			}
			continue
		}
		s.first, s.last = append(s.first, lo), append(s.last, hi)
	}
	return s
}

func (s prefixSet) contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	// The last range that starts at or before ip is the only one that can
	// hold it.
	i := sort.Search(len(s.first), func(i int) bool { return s.first[i].Compare(ip) > 0 })
	return i > 0 && ip.Compare(s.last[i-1]) <= 0
}

// lastAddr returns the highest address of the masked prefix p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for bit := p.Bits(); bit < len(b)*8; bit++ {
		b[bit/8] |= 0x80 >> (bit % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
