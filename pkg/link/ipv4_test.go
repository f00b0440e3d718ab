package link

import (
	"errors"
	"math/big"
	"net/netip"
	"strings"
	"testing"
)

// ipv4Tests are hosts after IDNA, as NormalizeHost hands them to the IPv4
// rules. want is the dotted-decimal address a browser reads; "" with
// number set means the URL is invalid (it ends in a number but is not an
// address); number unset means a domain name. Shared with FuzzIPv4.
var ipv4Tests = []struct {
	host   string
	number bool // endsInANumber
	want   string
}{
	// The attack's spellings of 10.0.0.1.
	{"167772161", true, "10.0.0.1"},
	{"0x0a000001", true, "10.0.0.1"},
	{"10.1", true, "10.0.0.1"},
	{"012.0.0.1", true, "10.0.0.1"},
	// Loopback, every way.
	{"127.0.0.1", true, "127.0.0.1"},
	{"2130706433", true, "127.0.0.1"},
	{"0x7f000001", true, "127.0.0.1"},
	{"0X7F000001", true, "127.0.0.1"},
	{"0x7f.1", true, "127.0.0.1"},
	{"127.1", true, "127.0.0.1"},
	{"127.0.1", true, "127.0.0.1"},
	{"0177.0.0.01", true, "127.0.0.1"},
	{"0x7f.0.0.0x1", true, "127.0.0.1"},
	{"0x00000000000000000000000000000000007f.1", true, "127.0.0.1"},
	{"0000000000000000000000000000000000000177.1", true, "127.0.0.1"},
	// The standard's host parsing examples.
	{"0", true, "0.0.0.0"},
	{"0x", true, "0.0.0.0"},
	{"0xffffffff1", true, ""},
	{"09", true, ""},
	{"example.255", true, ""},
	// A trailing empty part is allowed, once.
	{"1.2.3.4.", true, "1.2.3.4"},
	{"10.1.", true, "10.0.0.1"},
	// The last part fills the bytes the others leave.
	{"4294967295", true, "255.255.255.255"},
	{"4294967296", true, ""},
	{"1.16777215", true, "1.255.255.255"},
	{"1.16777216", true, ""},
	{"1.2.65535", true, "1.2.255.255"},
	{"1.2.65536", true, ""},
	{"1.2.3.255", true, "1.2.3.255"},
	{"1.2.3.256", true, ""},
	{"0xffffffff", true, "255.255.255.255"},
	{"0x100000000", true, ""},
	{"037777777777", true, "255.255.255.255"},
	{"040000000000", true, ""},
	// Only the last part may be over 255.
	{"256.0.0.1", true, ""},
	{"1.256.1", true, ""},
	{"0x100.1", true, ""},
	// Overflow of any width is failure, never a wrapped-around address.
	{"18446744073709551617", true, ""},
	{"0x10000000000000001", true, ""},
	{"1." + strings.Repeat("9", 60), true, ""},
	// Too many parts, empty parts, parts that are not numbers.
	{"1.2.3.4.5", true, ""},
	{"0.0.0.0.0", true, ""},
	{"1..2", true, ""},
	{".1", true, ""},
	{"1.2.3..", false, ""}, // the last part is empty even after one dot goes
	{"08.1", true, ""},
	{"0x1g.1", true, ""},
	{"a.1", true, ""},
	{"a.0x", true, ""},
	{"a.0x1f", true, ""},
	{"-1.1", true, ""},
	// Names that do not end in a number are domains, digits or not.
	{"example.com", false, ""},
	{"1.example", false, ""},
	{"1e", false, ""},
	{"0x1g", false, ""},
	{"1.2.3.4a", false, ""},
	{"1.2.3.0xg", false, ""},
	{"-1", false, ""},
	{"+1", false, ""},
	{"1_0", false, ""},
	{"", false, ""},
	{".", false, ""},
}

func TestIPv4(t *testing.T) {
	t.Parallel()
	for _, tt := range ipv4Tests {
		if got := endsInANumber(tt.host); got != tt.number {
			t.Errorf("endsInANumber(%q) = %v; want %v", tt.host, got, tt.number)
		}
		if !tt.number {
			continue
		}
		ip, ok := parseIPv4(tt.host)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseIPv4(%q) = %v; want failure", tt.host, ip)
		case tt.want != "" && (!ok || ip.String() != tt.want):
			t.Errorf("parseIPv4(%q) = %v, %v; want %s", tt.host, ip, ok, tt.want)
		}
	}
}

// TestNormalizeHostIPv4 runs the IPv4 rules through NormalizeHost: an
// address in any spelling gives its dotted decimal, a host that ends in a
// number but is no address is refused, and IDNA's mapping comes first.
func TestNormalizeHostIPv4(t *testing.T) {
	t.Parallel()
	for _, tt := range ipv4Tests {
		if !tt.number {
			continue
		}
		got, err := NormalizeHost(tt.host)
		switch {
		case tt.want == "" && !errors.Is(err, ErrInvalidURL):
			t.Errorf("NormalizeHost(%q) = %q, %v; want an error wrapping ErrInvalidURL", tt.host, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tt.host, got, err, tt.want)
		}
	}
	for in, want := range map[string]string{
		"0X0A000001":        "10.0.0.1",  // IDNA lowercases
		"１２７.０.０.１":         "127.0.0.1", // full-width digits
		"127。0。0。1":         "127.0.0.1", // ideographic full stops
		"０ｘ７ｆ.１":            "127.0.0.1", // full-width hex
		"0x1g":              "0x1g",      // a domain
		"1.2.3.4a":          "1.2.3.4a",  // a domain
		"www.0x7f.1":        "",          // a name, then a number: invalid
		"1.2.3.4..":         "",          // two trailing dots
		"bücher.1":          "",          // a name, then a number: invalid
		"0x0a000001.":       "10.0.0.1",  // trailing dot
		"[::ffff:a00:1]":    "10.0.0.1",  // IPv4-mapped
		"::ffff:10.0.0.1":   "10.0.0.1",  // IPv4-mapped, mixed notation
		"[0:0:0:0:0:0:0:1]": "::1",
		"0::1":              "::1",
		"[2001:DB8::1]":     "2001:db8::1",
		"::":                "::",
		"[::1":              "",
		"::1]":              "",
		"[127.0.0.1]":       "", // brackets hold IPv6 only
		"fe80::1%eth0":      "", // a zone names an interface of the visitor's machine
		"[fe80::1%25eth0]":  "",
		"1:2":               "",
	} {
		got, err := NormalizeHost(in)
		switch {
		case want == "" && !errors.Is(err, ErrInvalidURL):
			t.Errorf("NormalizeHost(%q) = %q, %v; want an error wrapping ErrInvalidURL", in, got, err)
		case want != "" && (err != nil || got != want):
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzIPv4 checks the IPv4 rules against referenceIPv4, a second reading
// of the standard in arbitrary precision.
func FuzzIPv4(f *testing.F) {
	for _, tt := range ipv4Tests {
		f.Add(tt.host)
	}
	f.Fuzz(func(t *testing.T, host string) {
		wantNumber, want, wantOK := referenceIPv4(host)
		if got := endsInANumber(host); got != wantNumber {
			t.Fatalf("endsInANumber(%q) = %v; the reference says %v", host, got, wantNumber)
		}
		if !wantNumber {
			return
		}
		got, ok := parseIPv4(host)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("parseIPv4(%q) = %v, %v; the reference says %v, %v", host, got, ok, want, wantOK)
		}
	})
}

// referenceIPv4 is the standard's ends-in-a-number checker and IPv4 parser
// written as literally as possible, with math/big for its unbounded numbers.
func referenceIPv4(host string) (endsInNumber bool, addr netip.Addr, ok bool) {
	number := func(s string) (*big.Int, bool) {
		if s == "" {
			return nil, false
		}
		digits, radix := "0123456789", 10
		if len(s) >= 2 && strings.EqualFold(s[:2], "0x") {
			s, digits, radix = s[2:], "0123456789abcdefABCDEF", 16
		} else if len(s) >= 2 && s[0] == '0' {
			s, digits, radix = s[1:], "01234567", 8
		}
		if s == "" {
			return new(big.Int), true
		}
		if strings.Trim(s, digits) != "" {
			return nil, false
		}
		n, _ := new(big.Int).SetString(s, radix)
		return n, true
	}
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false, netip.Addr{}, false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	_, lastIsNumber := number(last)
	if !(last != "" && strings.Trim(last, "0123456789") == "") && !lastIsNumber {
		return false, netip.Addr{}, false
	}
	if len(parts) > 4 {
		return true, netip.Addr{}, false
	}
	var numbers []*big.Int
	for _, p := range parts {
		n, isNumber := number(p)
		if !isNumber {
			return true, netip.Addr{}, false
		}
		numbers = append(numbers, n)
	}
	pow256 := func(e int) *big.Int { return new(big.Int).Exp(big.NewInt(256), big.NewInt(int64(e)), nil) }
	lastN := numbers[len(numbers)-1]
	for _, n := range numbers[:len(numbers)-1] {
		if n.Cmp(big.NewInt(255)) > 0 {
			return true, netip.Addr{}, false
		}
	}
	if lastN.Cmp(pow256(5-len(numbers))) >= 0 {
		return true, netip.Addr{}, false
	}
	ipv4 := new(big.Int).Set(lastN)
	for i, n := range numbers[:len(numbers)-1] {
		ipv4.Add(ipv4, new(big.Int).Mul(n, pow256(3-i)))
	}
	var b [4]byte
	ipv4.FillBytes(b[:])
	return true, netip.AddrFrom4(b), true
}
