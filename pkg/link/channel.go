package link

import (
	"fmt"
	"strings"
)

// Channel is the private route a short link was made for. Each channel of a
// page gets its own code, which is how a click is attributed to it.
type Channel string

// The channels a share button offers, in the order a widget shows them.
const (
	Email     Channel = "email"
	SMS       Channel = "sms"
	WhatsApp  Channel = "whatsapp"
	Messenger Channel = "messenger"
	Telegram  Channel = "telegram"
	Copy      Channel = "copy"
	Native    Channel = "native" // the Web Share sheet (navigator.share)
	QR        Channel = "qr"
)

// Channels lists every channel in display order. Callers must not modify it.
var Channels = []Channel{Email, SMS, WhatsApp, Messenger, Telegram, Copy, Native, QR}

// ParseChannel returns the channel named s (case-insensitive, surrounding
// space ignored). It returns an error wrapping ErrUnknownChannel otherwise.
func ParseChannel(s string) (Channel, error) {
	c := Channel(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Channels {
		if c == known {
			return known, nil
		}
	}
	return "", fmt.Errorf("%w: %q (known: %s)", ErrUnknownChannel, s, channelNames())
}

// ParseChannels parses names into channels, dropping duplicates and keeping
// the order of first appearance. No names means every channel.
func ParseChannels(names []string) ([]Channel, error) {
	if len(names) == 0 {
		return append([]Channel(nil), Channels...), nil
	}
	out := make([]Channel, 0, len(names))
	seen := make(map[Channel]bool, len(names))
	for _, n := range names {
		c, err := ParseChannel(n)
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

func channelNames() string { return joinNames(Channels) }

// joinNames lists names comma-separated, for messages.
func joinNames[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}
