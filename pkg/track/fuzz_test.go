package track

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

func FuzzClassify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.method, tc.ua, "https://mail.google.com/", tc.ip)
	}
	f.Add("HEAD", "WhatsApp/2", "", eopIP)
	f.Add("GET", "Mozilla/5.0 \xff\xfe", "https://\xff/", "::ffff:40.107.0.1")
	for i, row := range loadCorpus(f) {
		if i%25 == 0 { // a sample of the public corpus, every class
			f.Add("GET", row.ua, "", plainIP)
		}
	}
	c := NewClassifier()
	known := knownApps()
	f.Fuzz(func(t *testing.T, method, ua, referer, ip string) {
		addr, _ := netip.ParseAddr(ip) // the zero Addr when ip is not an address
		v := Visit{Method: method, UserAgent: ua, Referer: referer, IP: addr}
		r := c.Classify(v)
		if r.Class > Bot || r.Device > Tablet || r.Referrer > RefOther {
			t.Fatalf("Classify(%+v) = %+v: a field out of range", v, r)
		}
		if r.App != "" && !known[r.App] {
			t.Fatalf("Classify(%+v) = %+v: App is no name from the tables", v, r)
		}
		if r.Class != Human && (r.Device != Desktop || r.Referrer != RefNone) {
			t.Fatalf("Classify(%+v) = %+v: device or referrer set for a non-human", v, r)
		}
		if r.Class == Bot && r.App != "" {
			t.Fatalf("Classify(%+v) = %+v: a bot with an app", v, r)
		}
		if r.Class == Human && len(ua) > maxHumanUA {
			t.Fatalf("Classify(%+v) = %+v: an agent longer than any browser's counted as a human", v, r)
		}
		if r.Class == Human && method == "HEAD" {
			t.Fatalf("Classify(%+v) = %+v: a HEAD counted as a human", v, r)
		}
		// Second call: from the cache.
		if r2 := c.Classify(v); r2 != r {
			t.Fatalf("Classify(%+v) = %+v, then %+v", v, r, r2)
		}
		// A computed answer agrees with the cached one.
		if r3 := byRequest(v, c.uncached(ua, referer)); r3 != r {
			t.Fatalf("Classify(%+v) = %+v cached, %+v computed", v, r, r3)
		}
	})
}

func FuzzClassifyReferrer(f *testing.F) {
	for _, tt := range referrerTests {
		f.Add(tt.referer)
	}
	f.Fuzz(func(t *testing.T, referer string) {
		r := ClassifyReferrer(referer)
		if r > RefOther {
			t.Fatalf("ClassifyReferrer(%q) = %d, out of range", referer, r)
		}
		if (r == RefNone) != (strings.TrimSpace(referer) == "") {
			t.Fatalf("ClassifyReferrer(%q) = %v", referer, r)
		}
		// Case does not matter.
		if u := ClassifyReferrer(strings.ToUpper(referer)); u != r && isASCII(referer) {
			t.Fatalf("ClassifyReferrer(%q) = %v, but %v in upper case", referer, r, u)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func FuzzClientIP(f *testing.F) {
	for _, tt := range clientIPTests {
		f.Add(tt.remote, tt.xff, false)
		f.Add(tt.remote, tt.realIP, true)
	}
	trusted, err := ParseTrustedProxies(testTrusted)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, value string, realIP bool) {
		ra, _ := netip.ParseAddr(remote)
		source, entries := XForwardedFor, strings.Split(value, ",")
		if realIP {
			source, entries = XRealIP, []string{value}
		}
		got := ClientIP(ra, source, value, trusted)
		if got == ra.Unmap().WithZone("") {
			return
		}
		// Otherwise the result must be an address written in the header,
		// as net.SplitHostPort and netip read it.
		for _, entry := range entries {
			if a, ok := addrIn(entry); ok && a == got {
				return
			}
		}
		t.Fatalf("ClientIP(%q, %v: %q) = %v: neither remote nor in the header", remote, source, value, got)
	})
}

// addrIn reads an address from a header entry independently of parseHop.
func addrIn(entry string) (netip.Addr, bool) {
	entry = strings.TrimSpace(entry)
	if host, _, err := net.SplitHostPort(entry); err == nil {
		entry = host
	}
	entry = strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
