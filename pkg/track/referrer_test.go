package track

import "testing"

// referrerTests is shared with FuzzClassifyReferrer, which seeds its corpus
// with every referer here.
var referrerTests = []struct {
	name    string
	referer string
	want    Referrer
}{
	// Nothing.
	{"empty", "", RefNone},
	{"blank", "  \t", RefNone},

	// Webmail.
	{"Gmail", "https://mail.google.com/", RefWebmail},
	{"Gmail with path and query", "https://mail.google.com/mail/u/0/?ui=2#inbox/FMfcgz", RefWebmail},
	{"Outlook.com", "https://outlook.live.com/", RefWebmail},
	{"Outlook on the web", "https://outlook.office.com/mail/", RefWebmail},
	{"Outlook 365", "https://outlook.office365.com/", RefWebmail},
	{"Yahoo Mail", "https://mail.yahoo.com/", RefWebmail},
	{"Yahoo Mail country host", "https://uk.mail.yahoo.com/d/folders/1", RefWebmail},
	{"AOL Mail", "https://mail.aol.com/webmail-std/en-us/suite", RefWebmail},
	{"Proton Mail", "https://mail.proton.me/", RefWebmail},
	{"old Proton Mail", "https://mail.protonmail.com/inbox", RefWebmail},
	{"GMX redirector", "https://deref-gmx.net/mail/client/abc/dereferrer/?redirectUrl=x", RefWebmail},
	{"GMX.com redirector", "https://deref-gmx.com/", RefWebmail},
	{"WEB.DE redirector", "https://deref-web.de/mail/client/x/dereferrer/", RefWebmail},
	{"mail.com redirector", "https://deref-mail.com/", RefWebmail},
	{"GMX navigator", "https://navigator.gmx.net/mail", RefWebmail},
	{"Orange webmail", "https://webmail.orange.fr/", RefWebmail},
	{"Orange messagerie", "https://messagerie.orange.fr/", RefWebmail},
	{"Free Zimbra", "https://zimbra.free.fr/", RefWebmail},
	{"Free webmail", "https://webmail.free.fr/", RefWebmail},
	{"La Poste", "https://mail.laposte.net/", RefWebmail},
	{"SFR", "https://webmail.sfr.fr/", RefWebmail},
	{"Yandex Mail Russia", "https://mail.yandex.ru/", RefWebmail},
	{"Yandex Mail Turkey", "https://mail.yandex.com.tr/", RefWebmail},
	{"Mail.ru", "https://e.mail.ru/inbox/", RefWebmail},
	{"Zoho Mail", "https://mail.zoho.com/zm/", RefWebmail},
	{"Zoho Mail Europe", "https://mail.zoho.eu/zm/", RefWebmail},
	{"Fastmail", "https://app.fastmail.com/mail/Inbox/", RefWebmail},
	{"iCloud Mail", "https://www.icloud.com/mail/", RefWebmail},
	{"Tuta", "https://app.tuta.com/", RefWebmail},
	{"Tutanota", "https://mail.tutanota.com/", RefWebmail},
	{"Gmail app on Android", "android-app://com.google.android.gm/", RefWebmail},
	{"Gmail app without slash", "android-app://com.google.android.gm", RefWebmail},

	// Messengers.
	{"WhatsApp Web", "https://web.whatsapp.com/", RefMessenger},
	{"Telegram Web", "https://web.telegram.org/k/", RefMessenger},
	{"Messenger", "https://www.messenger.com/t/123", RefMessenger},
	{"Messenger bare", "https://messenger.com/", RefMessenger},
	{"Messenger link shim", "https://l.messenger.com/l.php?u=x", RefMessenger},
	{"Slack", "https://app.slack.com/client/T0/C0", RefMessenger},
	{"Teams", "https://teams.microsoft.com/", RefMessenger},
	{"Teams personal", "https://teams.live.com/", RefMessenger},
	{"Discord", "https://discord.com/channels/1/2", RefMessenger},
	{"Discord PTB", "https://ptb.discord.com/", RefMessenger},
	{"Discord Canary", "https://canary.discord.com/", RefMessenger},
	{"Skype", "https://web.skype.com/", RefMessenger},
	{"Google Chat", "https://chat.google.com/", RefMessenger},
	{"Telegram app on Android", "android-app://org.telegram.messenger", RefMessenger},
	{"Telegram app with slash", "android-app://org.telegram.messenger/", RefMessenger},
	{"Slack app on Android, mixed case package", "android-app://com.Slack/", RefMessenger},

	// Social.
	{"Facebook", "https://www.facebook.com/", RefSocial},
	{"Facebook bare", "https://facebook.com/", RefSocial},
	{"Facebook mobile", "https://m.facebook.com/", RefSocial},
	{"Facebook link shim", "https://l.facebook.com/l.php?u=x", RefSocial},
	{"Facebook mobile link shim", "https://lm.facebook.com/l.php?u=x", RefSocial},
	{"Instagram", "https://www.instagram.com/", RefSocial},
	{"Instagram link shim", "https://l.instagram.com/?u=x", RefSocial},
	{"t.co", "https://t.co/AbC123", RefSocial},
	{"Twitter", "https://twitter.com/", RefSocial},
	{"X", "https://x.com/someone/status/1", RefSocial},
	{"LinkedIn", "https://www.linkedin.com/feed/", RefSocial},
	{"lnkd.in", "https://lnkd.in/abc", RefSocial},
	{"Reddit", "https://www.reddit.com/r/golang/", RefSocial},
	{"Reddit outbound", "https://out.reddit.com/t3_x", RefSocial},
	{"Pinterest", "https://www.pinterest.com/", RefSocial},
	{"Pinterest France", "https://fr.pinterest.com/", RefSocial},
	{"Pinterest UK", "https://www.pinterest.co.uk/pin/1/", RefSocial},
	{"Pinterest Germany", "https://www.pinterest.de/", RefSocial},
	{"Bluesky", "https://bsky.app/profile/x", RefSocial},
	{"Threads", "https://www.threads.net/@x", RefSocial},
	{"YouTube", "https://www.youtube.com/", RefSocial},
	{"YouTube mobile", "https://m.youtube.com/", RefSocial},
	{"TikTok", "https://www.tiktok.com/", RefSocial},
	{"Hacker News", "https://news.ycombinator.com/item?id=1", RefSocial},
	{"VK", "https://vk.com/", RefSocial},
	{"VK mobile", "https://m.vk.com/", RefSocial},
	{"mastodon.social", "https://mastodon.social/@x", RefSocial},
	{"Facebook app on Android", "android-app://com.facebook.katana/", RefSocial},

	// Search.
	{"Google", "https://www.google.com/", RefSearch},
	{"Google bare", "https://google.com/", RefSearch},
	{"Google UK", "https://www.google.co.uk/", RefSearch},
	{"Google Germany", "https://www.google.de/", RefSearch},
	{"Google Brazil", "https://www.google.com.br/", RefSearch},
	{"Google Japan bare", "https://google.co.jp/", RefSearch},
	{"Bing", "https://www.bing.com/search?q=x", RefSearch},
	{"Bing China", "https://cn.bing.com/", RefSearch},
	{"DuckDuckGo", "https://duckduckgo.com/", RefSearch},
	{"DuckDuckGo HTML", "https://html.duckduckgo.com/html/", RefSearch},
	{"Yahoo search", "https://search.yahoo.com/search?p=x", RefSearch},
	{"Yahoo search UK", "https://uk.search.yahoo.com/", RefSearch},
	{"Yahoo Japan search", "https://search.yahoo.co.jp/search", RefSearch},
	{"Yandex", "https://yandex.ru/search/?text=x", RefSearch},
	{"Yandex com", "https://yandex.com/", RefSearch},
	{"ya.ru", "https://ya.ru/", RefSearch},
	{"Ecosia", "https://www.ecosia.org/search?q=x", RefSearch},
	{"Qwant", "https://www.qwant.com/", RefSearch},
	{"Baidu", "https://www.baidu.com/link?url=x", RefSearch},
	{"Brave Search", "https://search.brave.com/search?q=x", RefSearch},
	{"Startpage", "https://www.startpage.com/", RefSearch},
	{"Google app on Android", "android-app://com.google.android.googlequicksearchbox/", RefSearch},

	// Host normalisation.
	{"upper-case host", "https://MAIL.GOOGLE.COM/", RefWebmail},
	{"mixed-case scheme", "HTTPS://Mail.Google.Com/", RefWebmail},
	{"plain http", "http://mail.google.com/", RefWebmail},
	{"port", "https://mail.google.com:443/", RefWebmail},
	{"empty port", "https://mail.google.com:/", RefWebmail},
	{"trailing dot", "https://mail.google.com./", RefWebmail},
	{"trailing dot and port", "https://www.facebook.com.:443/x", RefSocial},
	{"userinfo", "https://user:pass@mail.google.com/", RefWebmail},
	{"surrounding space", "  https://t.co/x  ", RefSocial},
	{"query right after host", "https://t.co?x=1", RefSocial},
	{"fragment right after host", "https://t.co#x", RefSocial},

	// Look-alikes and other sites.
	{"Google Docs is no search", "https://docs.google.com/document/d/1", RefOther},
	{"Yandex Music is no search", "https://music.yandex.ru/", RefOther},
	{"subdomain of a shim is not the shim", "https://evil.t.co/", RefOther},
	{"brand on a private suffix", "https://google.blogspot.com/", RefOther},
	{"brand as a subdomain elsewhere", "https://google.evil.example/", RefOther},
	{"brand in a longer name", "https://notgoogle.com/", RefOther},
	{"brand label inside a domain", "https://www.google.com.evil.example/", RefOther},
	{"suffix only", "https://co.uk/", RefOther},
	{"facebook.com as a suffix of another name", "https://notfacebook.com/", RefOther},
	{"another site", "https://example.org/page", RefOther},
	{"unknown Android app", "android-app://com.example.app/", RefOther},

	// Malformed.
	{"relative path", "/some/path", RefOther},
	{"relative name", "page.html", RefOther},
	{"protocol-relative", "//mail.google.com/", RefOther},
	{"no slashes after scheme", "https:mail.google.com", RefOther},
	{"ftp", "ftp://mail.google.com/", RefOther},
	{"javascript", "javascript:alert(1)", RefOther},
	{"garbage", "%%%not a url%%%", RefOther},
	{"no host", "https:///path", RefOther},
	{"only a dot", "https://./", RefOther},
	{"port not a number", "https://mail.google.com:abc/", RefOther},
	{"port too long", "https://mail.google.com:4433333/", RefOther},
	{"IPv4 host", "http://192.0.2.1/", RefOther},
	{"IPv6 host", "http://[2001:db8::1]:8080/", RefOther},
	{"space in host", "https://mail google.com/", RefOther},
	{"non-ASCII host", "https://mäil.google.com/", RefOther},
	{"host too long", "https://" + string(make([]byte, 300)) + "/", RefOther},
	{"android-app without package", "android-app:///", RefOther},
	{"colon first", ":foo", RefOther},
}

func TestClassifyReferrer(t *testing.T) {
	for _, tt := range referrerTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyReferrer(tt.referer); got != tt.want {
				t.Errorf("ClassifyReferrer(%q) = %v, want %v", tt.referer, got, tt.want)
			}
		})
	}
}

// TestRefHostsKeys checks the table's own form: keys as the lookup sees hosts.
func TestRefHostsKeys(t *testing.T) {
	var buf [maxHost]byte
	for key := range refHosts {
		t.Run(key, func(t *testing.T) {
			name, wild := key, false
			if len(key) > 2 && key[len(key)-2:] == ".*" {
				name, wild = key[:len(key)-2], true
			}
			lower, ok := lowerName(buf[:], name)
			if !ok || string(lower) != name {
				t.Errorf("key %q is not a lower-case host name", key)
			}
			if wild {
				found := false
				for _, b := range refBrands {
					if len(name)+1 >= len(b) && (name + ".")[len(name)+1-len(b):] == b {
						found = true
					}
				}
				if !found {
					t.Errorf("wildcard key %q ends in no brand of refBrands %v, so it is never looked up", key, refBrands)
				}
			}
		})
	}
}

func BenchmarkClassifyReferrer(b *testing.B) {
	for _, ref := range []string{
		"",
		"https://mail.google.com/mail/u/0/",
		"https://l.facebook.com/l.php?u=x",
		"https://www.google.co.uk/",
		"https://example.org/page",
	} {
		b.Run(ref, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ClassifyReferrer(ref)
			}
		})
	}
}
