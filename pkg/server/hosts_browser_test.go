package server

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/darkshare/darkshare/pkg/link"
)

// TestBrowserReadsHostsAsNormalizeHost asks Chromium's URL parser what
// each host means and checks that link.NormalizeHost means the same: the
// same address for every spelling of one (so the blocklist and the
// loopback checks see what the visitor's browser will connect to), and a
// refusal where the browser finds the URL invalid.
func TestBrowserReadsHostsAsNormalizeHost(t *testing.T) {
	ctx := newBrowser(t)
	hosts := []string{
		// The attack's spellings of 10.0.0.1, and the service's own.
		"167772161", "0x0a000001", "10.1", "012.0.0.1", "localhost", "2130706433", "[::1]",
		"0x7f.1", "0X7F.0.0.1", "0177.0.0.01", "127.0.1", "127.0.0.1.", "0", "0x", "4294967295",
		"1.16777215", "1.2.65535", "037777777777", "0x00000000000000000000000000007f.1",
		"１２７.０.０.１", "127。0。0。1", "0x1g", "1.2.3.4a", "1e", "Example.ORG.",
		"[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[2001:DB8::1]", "[::]",
		// Hosts that end in a number but are not addresses: invalid URLs.
		"1.2.3.4.5", "09", "0xffffffff1", "4294967296", "256.0.0.1", "1.2.65536", "example.255",
		"example.0x", "a.0x1f", "08.1", "0x1g.1", "18446744073709551617",
	}
	list, _ := json.Marshal(hosts)
	var got []string
	run(t, ctx, chromedp.Navigate("about:blank"))
	if err := json.Unmarshal([]byte(get(t, ctx, chromedp.Evaluate[string](`JSON.stringify(`+string(list)+`.map((h) => {
		try { return new URL("http://" + h + "/").hostname } catch { return "" }
	}))`))), &got); err != nil || len(got) != len(hosts) {
		t.Fatalf("browser answered %q, %v", got, err)
	}
	for i, h := range hosts {
		ours, err := link.NormalizeHost(h)
		browser := got[i]
		switch {
		case err != nil && browser != "":
			t.Errorf("NormalizeHost(%q) refuses it (%v), but the browser reads %q", h, err, browser)
		case err == nil && !sameHost(ours, browser):
			t.Errorf("NormalizeHost(%q) = %q, but the browser reads %q", h, ours, browser)
		}
	}
}

// sameHost reports whether our normal form and a browser's hostname name
// one host: IPv4-mapped addresses are their IPv4 address to us, and we
// drop the trailing dot of a domain, which names the same one in DNS.
func sameHost(ours, browser string) bool {
	b, err := netip.ParseAddr(strings.Trim(browser, "[]"))
	if err != nil {
		return ours == strings.TrimSuffix(browser, ".")
	}
	o, err := netip.ParseAddr(ours)
	return err == nil && o == b.Unmap()
}
