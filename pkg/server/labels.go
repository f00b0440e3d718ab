package server

// referrerLabels name the referrer classes (track.Referrer) on the pages.
// The stored names stay as they are; "messenger" there means any chat
// app's web or mobile version, which a reader would take for the Messenger
// channel, so the pages say what it is.
var referrerLabels = map[string]string{
	"none":      "no referrer",
	"webmail":   "webmail",
	"messenger": "chat apps (WhatsApp Web, Telegram Web, …)",
	"social":    "social networks",
	"search":    "search engines",
	"other":     "other sites",
}

// referrerLabel returns the label of a referrer class, or the class itself.
func referrerLabel(class string) string {
	if l, ok := referrerLabels[class]; ok {
		return l
	}
	return class
}
