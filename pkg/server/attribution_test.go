package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/store/storetest"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store"
)

const (
	chromeDesktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	iphoneSafari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	imessage      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
	instagramApp  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 339.0.3.12.91 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 618123456)"
)

func TestVisitsAreClassifiedAndOnlyPeopleClick(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/a","channels":["whatsapp"]}`, nil).Links[0].Code
	visits := []struct {
		method string
		h      header
	}{
		{"GET", header{"User-Agent": chromeDesktop, "Referer": "https://mail.google.com/"}},
		{"GET", header{"User-Agent": iphoneSafari}},
		{"GET", header{"User-Agent": instagramApp, "Referer": "https://l.instagram.com/"}},
		{"GET", header{"User-Agent": "WhatsApp/2.23.20.0 A"}},
		{"GET", header{"User-Agent": "WhatsApp/2"}}, // Signal
		{"GET", header{"User-Agent": imessage}},
		{"GET", header{"User-Agent": "TelegramBot (like TwitterBot)"}},
		{"GET", header{"User-Agent": "curl/8.5.0"}},
		{"GET", header{"User-Agent": ""}},
		{"HEAD", header{"User-Agent": chromeDesktop}},
		// A browser agent from Microsoft's mail-scanning range, behind our proxy.
		{"GET", header{"User-Agent": chromeDesktop, "X-Forwarded-For": "40.107.22.10"}},
	}
	for _, v := range visits {
		resp, _ := env.do(t, v.method, "/"+code, "", v.h)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%s %v: %d; every class gets the redirect", v.method, v.h, resp.StatusCode)
		}
	}
	check := func(when string) {
		t.Helper()
		_, body := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", env.bearer())
		var s linkStats
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		b := s.Breakdown
		want := stats.Breakdown{
			Clicks: 3, UniqueVisitors: 3, Previews: 4, Scanners: 1, Bots: 3,
			PreviewsByApp:     map[string]uint64{"whatsapp": 1, "signal": 1, "imessage": 1, "telegram": 1},
			Referrers:         map[string]uint64{"webmail": 1, "none": 1, "social": 1},
			Devices:           map[string]uint64{"desktop": 1, "mobile": 2},
			InApp:             map[string]uint64{"instagram": 1},
			ResharesByChannel: map[string]uint64{},
		}
		if !breakdownEqual(b, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", when, b, want)
		}
		if len(s.Days) != 1 || !breakdownEqual(s.Days[0].Breakdown, want) {
			t.Fatalf("%s: days %+v", when, s.Days)
		}
	}
	check("pending")
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("flushed")

	resp, page := env.do(t, http.MethodGet, "/stats/"+code, "", env.bearer())
	if resp.StatusCode != 200 || !strings.Contains(page, "Where this link was pasted") || !strings.Contains(page, "<td>imessage</td>") {
		t.Fatalf("stats page: %d, lacks the previews by app", resp.StatusCode)
	}
}

func breakdownEqual(a, b stats.Breakdown) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestPageFunnelPerChannel(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	links := env.mint(t, `{"url":"https://news.example.org/f","channels":["email","whatsapp"]}`, nil).Links
	email, wa := links[0].Code, links[1].Code
	env.do(t, http.MethodPost, "/api/v1/shares", `{"code":"`+wa+`"}`, nil)
	env.do(t, http.MethodGet, "/"+wa, "", header{"User-Agent": "WhatsApp/2.24.1.5 i"})
	env.do(t, http.MethodGet, "/"+wa, "", header{"User-Agent": iphoneSafari, "X-Forwarded-For": "198.51.100.1"})
	env.do(t, http.MethodGet, "/"+wa, "", header{"User-Agent": iphoneSafari, "X-Forwarded-For": "198.51.100.1"})
	env.do(t, http.MethodGet, "/"+wa, "", header{"User-Agent": iphoneSafari, "X-Forwarded-For": "198.51.100.2"})
	env.do(t, http.MethodGet, "/"+email, "", header{"User-Agent": chromeDesktop})

	_, body := env.do(t, http.MethodGet, "/api/v1/stats?url=https://news.example.org/f", "", env.bearer())
	var p pageStats
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	w := p.Channels["whatsapp"]
	if w.Shares != 1 || w.Previews != 1 || w.Clicks != 3 || w.UniqueVisitors != 2 {
		t.Errorf("whatsapp funnel %+v: want shares 1, previews 1, clicks 3, unique visitors 2", w.Breakdown)
	}
	if p.Clicks != 4 || p.UniqueVisitors != 3 || p.Channels["email"].Clicks != 1 {
		t.Errorf("page totals %+v", p.Breakdown)
	}
}

// No raw address or user agent may reach the db, in any encoding we can think of.
func TestNoPersonalDataInTheDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "darkshare.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	env := newTestEnv(t, db, "https://s.test")
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) PrivacyProbe/9.8.7 Chrome/131.0.0.0 Safari/537.36"
	ips := []string{"198.51.100.23", "2001:db8:abcd::42"}
	links := env.mint(t, `{"url":"https://news.example.org/private","channels":["email","copy"]}`, nil).Links
	for _, ip := range ips {
		for _, l := range links {
			h := header{"User-Agent": ua, "X-Forwarded-For": ip, "Referer": "https://mail.google.com/mail/u/0/#inbox/PrivacyProbeMessage"}
			env.do(t, http.MethodGet, "/"+l.Code, "", h)
			env.do(t, http.MethodPost, "/api/v1/shares", `{"code":"`+l.Code+`"}`, h)
		}
	}
	if err := env.agg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := env.visitors.Persist(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{"user agent": []byte(ua), "agent token": []byte("PrivacyProbe"), "referrer": []byte("mail.google.com")}
	for _, ip := range ips {
		a := netip.MustParseAddr(ip)
		a4, a16 := a.AsSlice(), a.As16()
		needles["address "+ip] = []byte(ip)
		needles["address bytes "+ip] = a4
		needles["address as 16 bytes "+ip] = a16[:]
	}
	// Nor a whole visitor ID: with the day's salt, which the db holds until
	// the day is over, it would single out an address. Tallies in the log
	// keep only what a sketch keeps of it.
	for _, ip := range ips {
		for _, l := range links {
			id, ok := env.visitors.VisitorHash(time.Now(), netip.MustParseAddr(ip), ua, l.Code)
			if !ok {
				t.Fatal("no visitor ID")
			}
			needles["visitor ID of "+ip+" on "+l.Code] = binary.BigEndian.AppendUint64(nil, id)
			needles["visitor ID (little-endian) of "+ip+" on "+l.Code] = binary.LittleEndian.AppendUint64(nil, id)
		}
	}
	for what, needle := range needles {
		if bytes.Contains(raw, needle) {
			t.Errorf("the db file holds the %s", what)
		}
	}
	if got := clicksOf(t, env, links[0].Code); got != 2 {
		t.Fatalf("the probe's clicks were not counted (%d): the scan proves nothing", got)
	}
}

// Thousands of (address, agent) pairs, some clicking twice, through the whole
// app: the unique count lands within a few percent.
func TestUniqueVisitorsFromAddressesAndAgents(t *testing.T) {
	env := newTestEnv(t, storetest.MustOpen(t), "https://s.test")
	code := env.mint(t, `{"url":"https://news.example.org/u","channels":["sms"]}`, nil).Links[0].Code
	const pairs = 3000
	for i := range pairs {
		h := header{
			"X-Forwarded-For": fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			"User-Agent":      fmt.Sprintf("Mozilla/5.0 (Linux; Android 14; Pixel %d) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", i%25),
		}
		for range 1 + i%2 {
			env.do(t, http.MethodGet, "/"+code, "", h)
		}
		if i == pairs/2 {
			if err := env.agg.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, body := env.do(t, http.MethodGet, "/api/v1/links/"+code+"/stats", "", env.bearer())
	var s linkStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.Clicks != pairs*3/2 {
		t.Fatalf("%d clicks, want %d", s.Clicks, pairs*3/2)
	}
	if off := math.Abs(float64(s.UniqueVisitors)-pairs) / pairs; off > 0.03 {
		t.Fatalf("%d unique visitors for %d pairs: off by %.1f%%", s.UniqueVisitors, pairs, 100*off)
	}
}
