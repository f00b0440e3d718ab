package main

import (
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/darkshare/darkshare/pkg/link"
	"github.com/darkshare/darkshare/pkg/server"
	"github.com/darkshare/darkshare/pkg/track"
)

// noCampaign is the campaign when no flag or variable sets one.
var noCampaign = link.Campaign{Preset: link.PresetNone}

// defaultConns are the connection bounds when no flag or variable sets them.
var defaultConns = server.DefaultConns()

// defaultPageParams are the page parameters when no flag or variable sets them.
var defaultPageParams = []string{"p", "page_id", "cat", "id", "page"}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    serveConfig
		wantErr bool
	}{
		{name: "defaults", want: serveConfig{listen: "127.0.0.1:8080", db: "./darkshare.db", flushInterval: time.Second, limits: server.DefaultLimits, conns: defaultConns, campaign: noCampaign, pageParams: defaultPageParams}},
		{
			name: "env sets defaults",
			env: map[string]string{"DARKSHARE_LISTEN": ":9000", "DARKSHARE_DB": "/data/d.db", "DARKSHARE_BASE_URL": "https://s.example.org",
				"DARKSHARE_ALLOW_HOST": "*.example.org", "DARKSHARE_FLUSH_INTERVAL": "250ms"},
			want: serveConfig{listen: ":9000", db: "/data/d.db", baseURL: "https://s.example.org", allowHost: "*.example.org", flushInterval: 250 * time.Millisecond, limits: server.DefaultLimits, conns: defaultConns, campaign: noCampaign, pageParams: defaultPageParams},
		},
		{
			name: "flags beat env",
			args: []string{"--listen", "127.0.0.1:1", "--flush-interval", "2s", "--allow-host", "a.org"},
			env:  map[string]string{"DARKSHARE_LISTEN": ":9000", "DARKSHARE_FLUSH_INTERVAL": "250ms", "DARKSHARE_ALLOW_HOST": "b.org"},
			want: serveConfig{listen: "127.0.0.1:1", db: "./darkshare.db", allowHost: "a.org", flushInterval: 2 * time.Second, limits: server.DefaultLimits, conns: defaultConns, campaign: noCampaign, pageParams: defaultPageParams},
		},
		{
			name: "rates from env and flags",
			args: []string{"--rate-mint", "5/10s", "--rate-login", "off", "--block-host", "bad.example", "--trusted-proxy", "10.0.0.0/8"},
			env:  map[string]string{"DARKSHARE_RATE_MINT": "1/1h", "DARKSHARE_RATE_SHARE": "7/1m"},
			want: serveConfig{listen: "127.0.0.1:8080", db: "./darkshare.db", flushInterval: time.Second, blockHost: "bad.example", trustedProxy: "10.0.0.0/8",
				limits: server.Limits{Mint: server.Rate{N: 5, Per: 10 * time.Second}, Share: server.Rate{N: 7, Per: time.Minute}, View: server.DefaultLimits.View}, conns: defaultConns, campaign: noCampaign, pageParams: defaultPageParams},
		},
		{
			name: "client address header from env, then flag",
			args: []string{"--client-ip-header", "x-real-ip"},
			env:  map[string]string{"DARKSHARE_CLIENT_IP_HEADER": "X-Forwarded-For"},
			want: serveConfig{listen: "127.0.0.1:8080", db: "./darkshare.db", flushInterval: time.Second, clientIPHeader: track.XRealIP, limits: server.DefaultLimits, conns: defaultConns, campaign: noCampaign, pageParams: defaultPageParams},
		},
		{name: "bad client address header", args: []string{"--client-ip-header", "Forwarded"}, wantErr: true},
		{name: "bad client address header env", env: map[string]string{"DARKSHARE_CLIENT_IP_HEADER": "X-Client-IP"}, wantErr: true},
		{
			name: "connection bounds from env and flags",
			args: []string{"--read-timeout", "3s", "--max-conns", "0"},
			env: map[string]string{"DARKSHARE_READ_TIMEOUT": "1m", "DARKSHARE_WRITE_TIMEOUT": "2m", "DARKSHARE_IDLE_TIMEOUT": "5s",
				"DARKSHARE_MAX_CONNS": "100", "DARKSHARE_MAX_CONNS_PER_IP": "7"},
			want: serveConfig{listen: "127.0.0.1:8080", db: "./darkshare.db", flushInterval: time.Second, limits: server.DefaultLimits, campaign: noCampaign, pageParams: defaultPageParams,
				conns: server.Conns{ReadTimeout: 3 * time.Second, WriteTimeout: 2 * time.Minute, IdleTimeout: 5 * time.Second, Max: 0, MaxPerIP: 7}},
		},
		{name: "zero timeout", args: []string{"--idle-timeout", "0s"}, wantErr: true},
		{name: "bad timeout env", env: map[string]string{"DARKSHARE_WRITE_TIMEOUT": "long"}, wantErr: true},
		{name: "negative cap", args: []string{"--max-conns-per-ip", "-1"}, wantErr: true},
		{name: "bad cap env", env: map[string]string{"DARKSHARE_MAX_CONNS": "many"}, wantErr: true},
		{name: "bad rate flag", args: []string{"--rate-share", "lots"}, wantErr: true},
		{name: "bad rate env", env: map[string]string{"DARKSHARE_RATE_LOGIN": "1/0s"}, wantErr: true},
		{name: "bad env duration", env: map[string]string{"DARKSHARE_FLUSH_INTERVAL": "soon"}, wantErr: true},
		{name: "zero interval", args: []string{"--flush-interval", "0s"}, wantErr: true},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseServeFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCampaignFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    link.Campaign
		marker  bool
		wantErr string // part of the message; "" for none
	}{
		{name: "off by default", want: noCampaign},
		{name: "preset from env", env: map[string]string{"DARKSHARE_CAMPAIGN": "UTM", "DARKSHARE_CAMPAIGN_NAME": " spring "},
			want: link.Campaign{Preset: link.PresetUTM, Name: "spring"}},
		{name: "flags beat env", args: []string{"--campaign", "matomo", "--campaign-name", "autumn", "--landing-marker"},
			env:  map[string]string{"DARKSHARE_CAMPAIGN": "utm", "DARKSHARE_CAMPAIGN_NAME": "spring"},
			want: link.Campaign{Preset: link.PresetMatomo, Name: "autumn"}, marker: true},
		{name: "marker from env", env: map[string]string{"DARKSHARE_LANDING_MARKER": "true"}, want: noCampaign, marker: true},
		{name: "custom template", args: []string{"--campaign", "custom", "--campaign-template", "src={channel}&camp={campaign}&id={code}"},
			want: link.Campaign{Preset: link.PresetCustom, Template: "src={channel}&camp={campaign}&id={code}"}},
		{name: "xtor ids", env: map[string]string{"DARKSHARE_CAMPAIGN": "xtor", "DARKSHARE_CAMPAIGN_NAME": "CS1-42"},
			want: link.Campaign{Preset: link.PresetXtor, Name: "CS1-42"}},
		{name: "unknown preset", args: []string{"--campaign", "ga4"}, wantErr: `unknown preset "ga4"`},
		{name: "custom without template", args: []string{"--campaign", "custom"}, wantErr: "needs a template"},
		{name: "unknown placeholder", args: []string{"--campaign", "custom", "--campaign-template", "s={chanel}"}, wantErr: "unknown placeholder {chanel}"},
		{name: "template that does not parse", env: map[string]string{"DARKSHARE_CAMPAIGN": "custom", "DARKSHARE_CAMPAIGN_TEMPLATE": "s=%zz"}, wantErr: "not a query string"},
		{name: "template for a preset", args: []string{"--campaign", "utm", "--campaign-template", "a=b"}, wantErr: "only for the custom preset"},
		{name: "xtor without ids", args: []string{"--campaign", "xtor"}, wantErr: "CS1-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseServeFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if !errors.Is(err, link.ErrInvalidCampaign) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidCampaign saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.campaign != tt.want || got.landingMarker != tt.marker {
				t.Errorf("got %+v, marker %v, %v; want %+v, marker %v", got.campaign, got.landingMarker, err, tt.want, tt.marker)
			}
		})
	}
}

func TestResolveBaseURL(t *testing.T) {
	tests := []struct {
		explicit string
		addr     net.Addr
		want     string
		wantErr  bool
	}{
		{"", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080", false},
		{"", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "http://localhost:80", false},
		{"", &net.TCPAddr{IP: net.IPv6loopback, Port: 9}, "http://[::1]:9", false},
		{"https://s.example.org/", nil, "https://s.example.org", false},
		{"https://s.example.org/go", nil, "https://s.example.org/go", false},
		{"s.example.org", nil, "", true},
		{"ftp://s.example.org", nil, "", true},
		{"https://s.example.org/?x=1", nil, "", true},
	}
	for _, tt := range tests {
		got, err := resolveBaseURL(tt.explicit, tt.addr)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("resolveBaseURL(%q, %v) = %q, %v; want %q", tt.explicit, tt.addr, got, err, tt.want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run(t.Context(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run(t.Context(), []string{"serve", "-h"}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatalf("-h: %v", err)
	}
}
