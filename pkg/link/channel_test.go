package link

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseChannel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Channel // "" means ErrUnknownChannel
	}{
		{"email", "email", Email},
		{"sms", "sms", SMS},
		{"whatsapp", "whatsapp", WhatsApp},
		{"messenger", "messenger", Messenger},
		{"telegram", "telegram", Telegram},
		{"copy", "copy", Copy},
		{"native", "native", Native},
		{"qr", "qr", QR},
		{"upper case", "EMAIL", Email},
		{"mixed case", "WhatsApp", WhatsApp},
		{"surrounding space", "  telegram\t\n", Telegram},
		{"case and space", " Qr ", QR},
		{"empty", "", ""},
		{"space only", "   ", ""},
		{"unknown", "fax", ""},
		{"inner space", "what sapp", ""},
		{"list", "email,sms", ""},
		{"prefix", "e", ""},
		{"suffix", "emails", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseChannel(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrUnknownChannel) {
					t.Fatalf("ParseChannel(%q) = %q, %v; want an error wrapping ErrUnknownChannel", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("ParseChannel(%q) returned %q along with its error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseChannel(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseChannel(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every exported channel must parse from its own name, and Channels must list
// each once, in the order widgets show them.
func TestChannelsOrder(t *testing.T) {
	t.Parallel()
	want := []Channel{Email, SMS, WhatsApp, Messenger, Telegram, Copy, Native, QR}
	if !slices.Equal(Channels, want) {
		t.Fatalf("Channels = %q; want %q", Channels, want)
	}
	for _, c := range Channels {
		got, err := ParseChannel(string(c))
		if err != nil || got != c {
			t.Errorf("ParseChannel(%q) = %q, %v; want %q, nil", c, got, err, c)
		}
	}
}

func TestParseChannels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    []Channel
		wantErr bool
	}{
		{"nil means all", nil, Channels, false},
		{"empty means all", []string{}, Channels, false},
		{"one", []string{"qr"}, []Channel{QR}, false},
		{"order kept", []string{"qr", "email", "sms"}, []Channel{QR, Email, SMS}, false},
		{"duplicates dropped keeping first order", []string{"sms", "email", "SMS", " email ", "qr", "sms"}, []Channel{SMS, Email, QR}, false},
		{"all in reverse", []string{"qr", "native", "copy", "telegram", "messenger", "whatsapp", "sms", "email"},
			[]Channel{QR, Native, Copy, Telegram, Messenger, WhatsApp, SMS, Email}, false},
		{"one unknown fails the list", []string{"email", "fax", "sms"}, nil, true},
		{"unknown last fails the list", []string{"email", "sms", "pigeon"}, nil, true},
		{"empty name fails the list", []string{"email", ""}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseChannels(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownChannel) {
					t.Fatalf("ParseChannels(%q) = %q, %v; want an error wrapping ErrUnknownChannel", tt.in, got, err)
				}
				if got != nil {
					t.Errorf("ParseChannels(%q) returned %q along with its error; want nil", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseChannels(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseChannels(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The "all channels" answer must be the caller's own copy: Channels is shared.
func TestParseChannelsAllIsACopy(t *testing.T) {
	t.Parallel()
	got, err := ParseChannels(nil)
	if err != nil {
		t.Fatalf("ParseChannels(nil): %v", err)
	}
	if len(got) > 0 && &got[0] == &Channels[0] {
		t.Fatal("ParseChannels(nil) returned Channels itself, not a copy")
	}
}

func TestValidCode(t *testing.T) {
	for code, want := range map[string]bool{
		"c7aCRHheh": true, "-_09azAZ": true, "a": true, strings.Repeat("a", 32): true,
		"": false, strings.Repeat("a", 33): false, "a b": false, "a/b": false, "a.png": false,
		"é": false, "a%20": false, "a\x00": false,
	} {
		if got := ValidCode(code); got != want {
			t.Errorf("ValidCode(%q) = %v, want %v", code, got, want)
		}
	}
}
