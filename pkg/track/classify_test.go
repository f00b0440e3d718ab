package track

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// sharedClassifier is built once: building the matcher takes milliseconds.
var sharedClassifier = sync.OnceValue(NewClassifier)

// Real user agents, from server logs, vendors' documentation and the
// crawlerdetect test corpus; the few built from a project's source rather
// than captured say so in their names. The three shared by several cases:
const (
	chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	imessageUA    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
)

// An address in Exchange Online Protection's 40.107.0.0/16 and one outside.
const (
	eopIP    = "40.107.22.53"
	eopIPv6  = "2a01:111:f403:2612::714"
	plainIP  = "203.0.113.7"
	mappedIP = "::ffff:40.92.18.9"
)

type classifyCase struct {
	name   string
	method string // "" means GET
	ua     string
	ip     string // "" means plainIP
	class  Class
	app    string
	device Device // checked for Human only
}

var classifyCases = []classifyCase{
	// Browsers.
	{name: "Chrome on Windows", ua: chromeWindows, class: Human, device: Desktop},
	{name: "Chrome on macOS", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", class: Human, device: Desktop},
	{name: "Chrome on Linux", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", class: Human, device: Desktop},
	{name: "Chrome on ChromeOS", ua: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", class: Human, device: Desktop},
	{name: "Firefox on Windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", class: Human, device: Desktop},
	{name: "Firefox on Linux", ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", class: Human, device: Desktop},
	{name: "Safari on macOS", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", class: Human, device: Desktop},
	{name: "Edge on Windows", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", class: Human, device: Desktop},
	{name: "Internet Explorer 11 on a touch PC", ua: "Mozilla/5.0 (Windows NT 6.3; Win64; x64; Trident/7.0; Touch; Tablet PC 2.0; rv:11.0) like Gecko", class: Human, device: Desktop},
	{name: "Safari on iPhone", ua: safariIPhone, class: Human, device: Mobile},
	{name: "Chrome on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", class: Human, device: Mobile},
	{name: "Firefox on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15", class: Human, device: Mobile},
	{name: "Edge on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 11_1 like Mac OS X) AppleWebKit/604.3.5 (KHTML, like Gecko) Version/11.0 EdgiOS/41.10.1.0 Mobile/15B93 Safari/604.3.5", class: Human, device: Mobile},
	{name: "Chrome on Android phone", ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", class: Human, device: Mobile},
	{name: "Firefox on Android phone", ua: "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", class: Human, device: Mobile},
	{name: "Samsung Internet on Android phone", ua: "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", class: Human, device: Mobile},
	{name: "Edge on Android phone", ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", class: Human, device: Mobile},
	{name: "Windows Phone", ua: "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; HP; Elite x3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063", class: Human, device: Mobile},
	{name: "Opera Mini", ua: "Opera/9.50 (J2ME/MIDP; Opera Mini/5.1.24700/29.3757; U; en)", class: Human, device: Mobile},
	{name: "BlackBerry", ua: "Mozilla/5.0 (BlackBerry; U; BlackBerry 9900; en-US) AppleWebKit/534.11+ (KHTML, like Gecko) Version/7.1.0.1098 Mobile Safari/534.11+", class: Human, device: Mobile},
	{name: "Safari on iPad before iPadOS 13", ua: "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1", class: Human, device: Tablet},
	{name: "Chrome on iPad", ua: "Mozilla/5.0 (iPad; CPU OS 9_2 like Mac OS X) AppleWebKit/601.1 (KHTML, like Gecko) CriOS/47.0.2526.70 Mobile/13C75 Safari/601.1.46", class: Human, device: Tablet},
	{name: "Chrome on Android tablet", ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", class: Human, device: Tablet},
	{name: "Firefox on Android tablet", ua: "Mozilla/5.0 (Android; Tablet; rv:18.0) Gecko/18.0 Firefox/18.0", class: Human, device: Tablet},
	{name: "Silk on Kindle Fire", ua: "Mozilla/5.0 (Linux; Android 4.2.2; en-us; KFTT Build/IML74K) AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.4 Safari/535.19 Silk-Accelerated=false RaftBrowser/1.0.91.1_100162010", class: Human, device: Tablet},
	{name: "Kindle Fire HDX", ua: "Mozilla/5.0 (Linux; Android 4.4.4; Kindle Fire HDX 7 Build/KTU84Q) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87 Safari/537.36", class: Human, device: Tablet},
	{name: "BlackBerry PlayBook", ua: "Mozilla/5.0 (PlayBook; U; RIM Tablet OS 2.1.0; en-US) AppleWebKit/536.2+ (KHTML, like Gecko) Version/7.2.1.0 Safari/536.2+", class: Human, device: Tablet},
	{name: "iPadOS 13 and later send the Mac user agent: a desktop", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", class: Human, device: Desktop},

	// In-app browsers: people, with the app named.
	{name: "Facebook app on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60 [FBAN/FBIOS;FBAV/147.0.0.46.81;FBBV/76961488;FBDV/iPhone5,2;FBMD/iPhone;FBSN/iOS;FBSV/10.3.3;FBSS/2;FBID/phone;FBLC/en_US;FBOP/5]", class: Human, app: "facebook", device: Mobile},
	{name: "Facebook app on Android", ua: "Mozilla/5.0 (Linux; Android 7.1.1; Moto G (5S) Plus Build/NPSS26.116-26-4; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/64.0.3282.137 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/152.0.0.42.136;]", class: Human, app: "facebook", device: Mobile},
	{name: "Messenger on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 11_0_3 like Mac OS X) AppleWebKit/604.1.38 (KHTML, like Gecko) Mobile/15A432 [FBAN/MessengerForiOS;FBAV/147.0.0.50.87;FBBV/84235609;FBDV/iPhone8,4;FBMD/iPhone;FBSN/iOS;FBSV/11.0.3;FBSS/2;FBID/phone;FBLC/zh_TW;FBOP/5;FBRV/0]", class: Human, app: "messenger", device: Mobile},
	{name: "Messenger on Android", ua: "Mozilla/5.0 (Linux; Android 6.0.1; Moto G Play Build/MPIS24.241-2.47-10; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/59.0.3071.125 Mobile Safari/537.36 [FB_IAB/MESSENGER;FBAV/129.0.0.17.91;]", class: Human, app: "messenger", device: Mobile},
	{name: "Instagram on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 10_2 like Mac OS X) AppleWebKit/602.3.12 (KHTML, like Gecko) Mobile/14C92 Instagram 10.7.0 (iPhone9,3; iOS 10_2; en_GB; en-GB; scale=2.00; gamut=wide; 750x1334)", class: Human, app: "instagram", device: Mobile},
	{name: "Instagram on Android", ua: "Mozilla/5.0 (Linux; Android 7.1.1; Redmi Note 5 Pro Build/NGI77B; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/66.0.3359.126 Mobile Safari/537.36 Instagram 42.0.0.19.95 Android (25/7.1.1; 440dpi; 1080x2030; Xiaomi/xiaomi; Redmi Note 5 Pro; whyred; qcom; en_GB; 104766900)", class: Human, app: "instagram", device: Mobile},
	{name: "LinkedIn on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari/604.1 [LinkedInApp]/9.78.4909", class: Human, app: "linkedin", device: Mobile},
	{name: "LinkedIn on Android", ua: "Mozilla/5.0 (Linux; Android 16; SM-A176U Build/BP2A.250605.031; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/151.0.7922.85 Mobile Safari/537.36 [LinkedInApp]/2.312.70", class: Human, app: "linkedin", device: Mobile},
	{name: "LINE on Android", ua: "Mozilla/5.0 (Linux; Android 8.0.0; G8142 Build/47.1.A.12.75; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/64.0.3282.137 Mobile Safari/537.36 Line/8.2.4/IAB", class: Human, app: "line", device: Mobile},
	{name: "LINE on iPad", ua: "Mozilla/5.0 (iPad; CPU OS 10_3_2 like Mac OS X) AppleWebKit/603.2.4 (KHTML, like Gecko) Mobile/14F89 Safari Line/7.7.0", class: Human, app: "line", device: Tablet},
	{name: "Snapchat on Android", ua: "Mozilla/5.0 (Linux; Android 8.0.0; ONEPLUS A5010 Build/OPR1.170623.032; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/65.0.3325.109 Mobile Safari/537.36 Snapchat/10.27.5.0 (ONEPLUS A5010; Android 8.0.0#88#26; gzip)", class: Human, app: "snapchat", device: Mobile},
	{name: "TikTok on iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 15_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_25.1.1 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US ByteFullLocale/en isDarkMode/0 WKWebView/1 BytedanceWebview/d8a21c6 FalconTag/", class: Human, app: "tiktok", device: Mobile},
	{name: "TikTok on Android", ua: "Mozilla/5.0 (Linux; Android 10; Pixel 3 Build/QKQ1.200308.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/125.0.6394.70 Mobile Safari/537.36 trill_350402 JsSdk/1.0 NetType/MOBILE Channel/googleplay AppName/trill app_version/35.3.1 ByteLocale/en ByteFullLocale/en Region/IN AppId/1180 Spark/1.5.9.1 AppVersion/35.3.1 BytedanceWebview/d8a21c6", class: Human, app: "tiktok", device: Mobile},
	{name: "WeChat on Android", ua: "Mozilla/5.0 (Linux; Android 5.0; SM-N9100 Build/LRX21V) > AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 > Chrome/37.0.0.0 Mobile Safari/537.36 > MicroMessenger/6.0.2.56_r958800.520 NetType/WIFI", class: Human, app: "wechat", device: Mobile},
	{name: "Google app on Android", ua: "Mozilla/5.0 (Linux; Android 7.0; PRA-LX1 Build/HUAWEIPRA-LX1; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/65.0.3325.109 Mobile Safari/537.36 GSA/7.22.24.21.arm64", class: Human, app: "google", device: Mobile},
	{name: "Google app on iPad", ua: "Mozilla/5.0 (iPad; CPU OS 9_2 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) GSA/7.0.55539 Mobile/13C75 Safari/600.1.4", class: Human, app: "google", device: Tablet},
	{name: "Twitter for iPhone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 10_0_1 like Mac OS X) AppleWebKit/602.1.32 (KHTML, like Gecko) Mobile/14A403 Twitter for iPhone BMID/E68089D183", class: Human, app: "twitter", device: Mobile},
	{name: "Twitter for Android", ua: "Mozilla/5.0 (Linux; Android 8.0.0; ONEPLUS A3003 Build/OPR6.170623.013; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/65.0.3325.109 Mobile Safari/537.36 TwitterAndroid", class: Human, app: "twitter", device: Mobile},
	{name: "Pinterest on Android phone", ua: "Mozilla/5.0 (Linux; Android 7.0; SM-G935F Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/59.0.3071.125 Mobile Safari/537.36 [Pinterest/Android]", class: Human, app: "pinterest", device: Mobile},
	{name: "Pinterest on Android tablet", ua: "Mozilla/5.0 (Linux; Android 5.1.1; Nexus 7 Build/LMY47V; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/43.0.2357.121 Safari/537.36 [Pinterest/Android]", class: Human, app: "pinterest", device: Tablet},
	{name: "Pinterest on iPad", ua: "Mozilla/5.0 (iPad; CPU OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60 [Pinterest/iOS]", class: Human, app: "pinterest", device: Tablet},
	{name: "KakaoTalk on Android", ua: "Mozilla/5.0 (Linux; Android 7.0; SM-G925K Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/64.0.3282.137 Mobile Safari/537.36;KAKAOTALK 1607051", class: Human, app: "kakaotalk", device: Mobile},
	{name: "NAVER on Android", ua: "Mozilla/5.0 (Linux; Android 6.0.1; SM-G900F Build/MMB29M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/58.0.3029.83 Mobile Safari/537.36 NAVER(inapp; search; 541; 8.0.3)", class: Human, app: "naver", device: Mobile},
	{name: "Snapchat's own HTTP client is no browser", ua: "Snapchat/10.21.1.1 CFNetwork/893.14.2 Darwin/17.3.0", class: Bot},

	// Link previews, with the three traps.
	{name: "iMessage names facebookexternalhit and Twitterbot", ua: imessageUA, class: Preview, app: "imessage"},
	{name: "Signal as bare WhatsApp", ua: "WhatsApp", class: Preview, app: "signal"},
	{name: "Signal as WhatsApp/2", ua: "WhatsApp/2", class: Preview, app: "signal"},
	{name: "WhatsApp on Android", ua: "WhatsApp/2.23.20.0 A", class: Preview, app: "whatsapp"},
	{name: "WhatsApp on iPhone", ua: "WhatsApp/2.16.2/i", class: Preview, app: "whatsapp"},
	{name: "Telegram says like TwitterBot", ua: "TelegramBot (like TwitterBot)", class: Preview, app: "telegram"},
	{name: "Facebook external hit", ua: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", class: Preview, app: "facebook"},
	{name: "Facebook catalog", ua: "facebookcatalog/1.0", class: Preview, app: "facebook"},
	{name: "Facebot", ua: "Facebot/1.0", class: Preview, app: "facebook"},
	{name: "Slack link expanding", ua: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", class: Preview, app: "slack"},
	{name: "Slack image proxy", ua: "Slack-ImgProxy (+https://api.slack.com/robots)", class: Preview, app: "slack"},
	{name: "Discord", ua: "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", class: Preview, app: "discord"},
	{name: "Skype and Teams", ua: "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", class: Preview, app: "teams"},
	{name: "MicrosoftPreview", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview) Chrome/80.0.345.0 Safari/537.36", class: Preview, app: "teams"},
	{name: "LinkedIn", ua: "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", class: Preview, app: "linkedin"},
	{name: "X", ua: "Twitterbot/1.0", class: Preview, app: "x"},
	{name: "Viber", ua: "Viber", class: Preview, app: "viber"},
	{name: "Snapchat preview, lower-case snapchat inside", ua: "Mozilla/5.0 (compatible; Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots)", class: Preview, app: "snapchat"},
	{name: "Snapchat preview without Mozilla", ua: "Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots", class: Preview, app: "snapchat"},
	{name: "Pinterest bot", ua: "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)", class: Preview, app: "pinterest"},
	{name: "Pinterest preview", ua: "Pinterest/0.2 (+http://www.pinterest.com/)", class: Preview, app: "pinterest"},
	{name: "Reddit", ua: "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)", class: Preview, app: "reddit"},
	{name: "Mastodon", ua: "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)", class: Preview, app: "mastodon"},
	{name: "Pleroma", ua: "Pleroma 2.1.50-495-gf9ece1a7-develop+dev; https://search.fedi.app <pleroma@search.fedi.app>; Bot", class: Preview, app: "mastodon"},
	{name: "Akkoma (Pleroma's format)", ua: "Akkoma 3.13.2; https://akkoma.example <admin@akkoma.example>; Bot", class: Preview, app: "mastodon"},
	{name: "Misskey (format from its source)", ua: "Misskey/2025.4.0 (https://misskey.io)", class: Preview, app: "mastodon"},
	{name: "Misskey's summaly (format from its source)", ua: "Mozilla/5.0 (compatible; SummalyBot/5.2.1)", class: Preview, app: "mastodon"},
	{name: "Bluesky", ua: "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)", class: Preview, app: "bluesky"},
	{name: "BingPreview for Outlook", ua: "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b", class: Preview, app: "outlook"},
	{name: "Outlook desktop", ua: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.14931; Pro)", class: Preview, app: "outlook"},
	{name: "Outlook 2010", ua: "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; WOW64; Trident/5.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; .NET4.0C; .NET4.0E; InfoPath.3; Microsoft Outlook 14.0.6025)", class: Preview, app: "outlook"},
	{name: "Outlook 2013 with ms-office", ua: "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; WOW64; Trident/7.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; .NET4.0C; .NET4.0E; InfoPath.3; Microsoft Outlook 15.0.4805; ms-office; MSOffice 15)", class: Preview, app: "outlook"},
	{name: "Word checking a link", ua: "Microsoft Office Existence Discovery", class: Preview, app: "outlook"},
	{name: "Outlook for iOS", ua: "Outlook-iOS/696.1188109.prod.iphone (2.102.0)", class: Preview, app: "outlook"},
	{name: "Outlook for Mac", ua: "MacOutlook/16.41.20091302 (Intelx64 Mac OS X 10.14.4 (Build 18E226))", class: Preview, app: "outlook"},
	{name: "Iframely", ua: "Iframely/1.3.1 (+https://iframely.com/docs/about)", class: Preview, app: "other"},
	{name: "Embedly", ua: "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)", class: Preview, app: "other"},
	{name: "VK", ua: "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)", class: Preview, app: "vk"},
	{name: "Google page renderer", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87 Safari/537.36 Google-PageRenderer Google (+https://developers.google.com/+/web/snippet/)", class: Preview, app: "other"},
	{name: "Yahoo Mail link preview", ua: "Mozilla/5.0 (compatible; Yahoo Link Preview; https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html)", class: Preview, app: "yahoo"},
	{name: "Mattermost", ua: "mattermost-5.19.0", class: Preview, app: "mattermost"},

	// Mail scanners.
	{name: "Barracuda by user agent", ua: "Barracuda Sentinel (EE)", class: Scanner, app: "barracuda"},
	{name: "Microsoft by IPv4 with a browser user agent", ua: chromeWindows, ip: eopIP, class: Scanner, app: "microsoft"},
	{name: "Microsoft by IPv6 with a browser user agent", ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", ip: eopIPv6, class: Scanner, app: "microsoft"},
	{name: "Microsoft by IPv4-mapped address", ua: chromeWindows, ip: mappedIP, class: Scanner, app: "microsoft"},
	{name: "Microsoft by IP with no user agent", ua: "", ip: eopIP, class: Scanner, app: "microsoft"},
	{name: "Microsoft by IP with a HEAD", method: "HEAD", ua: chromeWindows, ip: eopIP, class: Scanner, app: "microsoft"},
	{name: "a preview from a Microsoft address stays a preview", ua: "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", ip: eopIP, class: Preview, app: "teams"},
	{name: "Microsoft by an Exchange Online server address (set 1)", ua: chromeWindows, ip: "40.99.10.1", class: Scanner, app: "microsoft"},
	{name: "Microsoft by an Exchange Online IPv6 address (set 1)", ua: chromeWindows, ip: "2603:1026:c03::1", class: Scanner, app: "microsoft"},
	{name: "just outside 40.107.0.0/16", ua: chromeWindows, ip: "40.108.0.1", class: Human, device: Desktop},

	// Bots.
	{name: "empty user agent", ua: "", class: Bot},
	{name: "blank user agent", ua: " \t ", class: Bot},
	// Longer than any browser's agent: a bot, decided before the crawler
	// regexp, whose cost grows with the length.
	{name: "agent over maxHumanUA", ua: chromeWindows + strings.Repeat("x", maxHumanUA), class: Bot},
	{name: "agent at maxHumanUA", ua: chromeWindows + strings.Repeat("x", maxHumanUA-len(chromeWindows)), class: Human, device: Desktop},
	{name: "Googlebot", ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", class: Bot},
	{name: "Googlebot smartphone", ua: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.7390.122 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", class: Bot},
	{name: "bingbot", ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", class: Bot},
	{name: "AhrefsBot", ua: "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", class: Bot},
	{name: "SemrushBot", ua: "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", class: Bot},
	{name: "YandexBot", ua: "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", class: Bot},
	{name: "Applebot", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", class: Bot},
	{name: "GPTBot", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot", class: Bot},
	{name: "ClaudeBot", ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", class: Bot},
	{name: "Bytespider", ua: "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", class: Bot},
	{name: "meta-externalagent trains, it previews nothing", ua: "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", class: Bot},
	{name: "meta-externalfetcher", ua: "meta-externalfetcher/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", class: Bot},
	{name: "curl", ua: "curl/8.7.1", class: Bot},
	{name: "Wget", ua: "Wget/1.21.4", class: Bot},
	{name: "python-requests", ua: "python-requests/2.32.3", class: Bot},
	{name: "Python-urllib", ua: "Python-urllib/3.12", class: Bot},
	{name: "aiohttp", ua: "Python/3.10 aiohttp/3.8.1", class: Bot},
	{name: "Scrapy", ua: "Scrapy/1.0.5 (+http://scrapy.org)", class: Bot},
	{name: "Go-http-client", ua: "Go-http-client/1.1", class: Bot},
	{name: "Go-http-client over HTTP/2", ua: "Go-http-client/2.0", class: Bot},
	{name: "okhttp", ua: "okhttp/4.12.0", class: Bot},
	{name: "axios", ua: "axios/1.7.9", class: Bot},
	{name: "node-fetch", ua: "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", class: Bot},
	{name: "undici", ua: "undici", class: Bot},
	{name: "Java", ua: "Java/17.0.2", class: Bot},
	{name: "Apache HttpClient", ua: "Apache-HttpClient/4.5.1 (Java/1.8.0_172)", class: Bot},
	{name: "libwww-perl", ua: "libwww-perl/6.15", class: Bot},
	{name: "HTTPie", ua: "HTTPie/3.2.2", class: Bot},
	{name: "HeadlessChrome", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/71.0.3578.98 Safari/537.36 Prerender (+https://github.com/prerender/prerender)", class: Bot},
	{name: "PhantomJS", ua: "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1 Prerender (+https://github.com/prerender/prerender)", class: Bot},
	{name: "a made-up RedditBot is not Reddit's", ua: "MyRedditBot/1.0", class: Bot},
	{name: "an iOS app's own HTTP client", ua: "Aloha/1 CFNetwork/1404.0.5 Darwin/22.3.0", class: Bot},
	{name: "an Android app's own HTTP client", ua: "Dalvik/2.1.0 (Linux; U; Android 8.0.0; SM-G930V Build/R16NW)", class: Bot},

	// HEAD requests.
	{name: "HEAD from a browser is no click", method: "HEAD", ua: chromeWindows, class: Bot},
	{name: "HEAD from an in-app browser is no click", method: "HEAD", ua: "Mozilla/5.0 (Linux; Android 8.0.0; ONEPLUS A3003 Build/OPR6.170623.013; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/65.0.3325.109 Mobile Safari/537.36 TwitterAndroid", class: Bot},
	{name: "HEAD from WhatsApp stays a preview", method: "HEAD", ua: "WhatsApp/2.23.20.0 A", class: Preview, app: "whatsapp"},
	{name: "HEAD from Barracuda stays a scanner", method: "HEAD", ua: "Barracuda Sentinel (EE)", class: Scanner, app: "barracuda"},
	{name: "HEAD from curl stays a bot", method: "HEAD", ua: "curl/8.7.1", class: Bot},
	{name: "POST from a browser", method: "POST", ua: chromeWindows, class: Human, device: Desktop},
}

func (tc classifyCase) visit() Visit {
	ip := tc.ip
	if ip == "" {
		ip = plainIP
	}
	return Visit{Method: tc.method, UserAgent: tc.ua, IP: netip.MustParseAddr(ip)}
}

func (tc classifyCase) want() Result {
	r := Result{Class: tc.class, App: tc.app}
	if tc.class == Human {
		r.Device = tc.device
	}
	return r
}

func TestClassify(t *testing.T) {
	c := sharedClassifier()
	for _, tc := range classifyCases {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second answer comes from the cache.
			for range 2 {
				if got, want := c.Classify(tc.visit()), tc.want(); got != want {
					t.Errorf("Classify(%q, %s from %s) = %+v, want %+v", tc.ua, tc.method, tc.ip, got, want)
				}
			}
		})
	}
}

// TestClassifyTableCoverage checks that every pattern of the in-app, preview
// and scanner tables is exercised by a case, or a row of the public corpus,
// that expects its row's app, so that no row, and no pattern within a row,
// is there without a real user agent behind it.
func TestClassifyTableCoverage(t *testing.T) {
	cases := slices.Clone(classifyCases)
	for _, row := range loadCorpus(t) {
		cases = append(cases, classifyCase{name: row.source, ua: row.ua, class: row.class, app: row.app})
	}
	tables := []struct {
		name  string
		class Class
		rows  []uaRow
	}{
		{"in-app", Human, inAppRows},
		{"preview", Preview, previewRows},
		{"scanner", Scanner, scannerRows},
	}
	for _, tbl := range tables {
		for _, row := range tbl.rows {
			for _, p := range row.patterns {
				t.Run(fmt.Sprintf("%s/%s/%s", tbl.name, row.app, p.s), func(t *testing.T) {
					for _, tc := range cases {
						if tc.class == tbl.class && tc.app == row.app && matchesTablePattern(p, tc.ua) {
							return
						}
					}
					t.Errorf("no case in classifyCases expects %s %q for a user agent matching %q", tbl.class, row.app, p.s)
				})
			}
		}
	}
}

// matchesTablePattern reports whether ua matches p by the matcher's rules
// for a table pattern, which must start a word.
func matchesTablePattern(p pattern, ua string) bool {
	lower := lowerASCII(make([]byte, len(ua)), ua)
	t := token{anchor: p.kind, word: true}
	for i := 0; ; {
		j := bytes.Index(lower[i:], []byte(p.s))
		if j < 0 {
			return false
		}
		if t.fits(lower, i+j, i+j+len(p.s)) {
			return true
		}
		i += j + 1
	}
}

func TestClassifyReferrerOnlyForHumans(t *testing.T) {
	c := sharedClassifier()
	const ref = "https://mail.google.com/"
	tests := []struct {
		name string
		v    Visit
		want Result
	}{
		{"human from Gmail", Visit{UserAgent: safariIPhone, Referer: ref}, Result{Class: Human, Device: Mobile, Referrer: RefWebmail}},
		{"in-app human from Facebook", Visit{UserAgent: "Mozilla/5.0 (Linux; Android 7.1.1; Moto G (5S) Plus Build/NPSS26.116-26-4; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/64.0.3282.137 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/152.0.0.42.136;]", Referer: "http://m.facebook.com/"}, Result{Class: Human, App: "facebook", Device: Mobile, Referrer: RefSocial}},
		{"human without referrer", Visit{UserAgent: chromeWindows}, Result{Class: Human, Device: Desktop, Referrer: RefNone}},
		{"preview keeps no referrer", Visit{UserAgent: "WhatsApp/2.23.20.0 A", Referer: ref}, Result{Class: Preview, App: "whatsapp"}},
		{"bot keeps no referrer", Visit{UserAgent: "curl/8.7.1", Referer: ref}, Result{Class: Bot}},
		{"HEAD keeps no referrer", Visit{Method: "HEAD", UserAgent: chromeWindows, Referer: ref}, Result{Class: Bot}},
		{"scanner keeps no referrer", Visit{UserAgent: chromeWindows, Referer: ref, IP: netip.MustParseAddr(eopIP)}, Result{Class: Scanner, App: "microsoft"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Classify(tt.v); got != tt.want {
				t.Errorf("Classify(%+v) = %+v, want %+v", tt.v, got, tt.want)
			}
		})
	}
}

// TestClassifyCacheEvicts classifies more distinct visits than the cache
// holds, each twice in a row so that it enters the cache, in two rounds, so
// that answers come from hits and entries are evicted; it checks every
// answer against the uncached rules.
func TestClassifyCacheEvicts(t *testing.T) {
	c := NewClassifier()
	agents := []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/438.0.0.33.118]",
		"WhatsApp/2.23.20.0 A", "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", "curl/8.7.1", chromeWindows,
	}
	referers := []string{"", "https://mail.google.com/", "https://www.facebook.com/", "android-app://org.telegram.messenger/"}
	visit := func(i int) Visit {
		return Visit{
			UserAgent: fmt.Sprintf("%s v/%d", agents[i%len(agents)], i),
			Referer:   referers[i%len(referers)],
		}
	}
	n := 3 * verdictEntries / 2
	for round := range 2 {
		for i := range 2 * n {
			v := visit(i / 2)
			if got, want := c.Classify(v), byRequest(v, c.uncached(v.UserAgent, v.Referer)); got != want {
				t.Fatalf("round %d: Classify(%+v) = %+v, want %+v", round, v, got, want)
			}
		}
	}
	cached := 0
	for i := range n {
		v := visit(i)
		if _, ok := c.verdicts.get(c.verdicts.key(v.UserAgent, v.Referer)); ok {
			cached++
		}
	}
	t.Logf("%d of %d visits cached", cached, n)
	if cached == 0 || cached == n {
		t.Errorf("%d of %d visits cached, want some cached and some evicted", cached, n)
	}
}

// TestVerdictWords checks that every verdict survives packing and the cache.
func TestVerdictWords(t *testing.T) {
	vc := newVerdictCache()
	key := uint64(0)
	for app := range knownAppsWithNone() {
		for class := Human; class <= Bot; class++ {
			for device := Desktop; device <= Tablet; device++ {
				for ref := RefNone; ref <= RefOther; ref++ {
					r := Result{Class: class, App: app, Device: device, Referrer: ref}
					key++
					vc.put(key, r) // a first miss only marks the key
					vc.put(key, r)
					if got, ok := vc.get(key); !ok || got != r {
						t.Fatalf("put %+v, got %+v, %v", r, got, ok)
					}
				}
			}
		}
	}
	if _, ok := vc.get(key + 1); ok {
		t.Error("a key never put was found")
	}
}

// TestVerdictCacheFlood checks that a flood of agents each seen once does
// not evict a working set of tens of thousands of agents that keep visiting
// (at a fifth of the flood's rate): after the flood, most of the working set
// is still cached. Counts, not time. (A flood with no other traffic at all
// does evict the working set, which then comes back at its next visits.)
func TestVerdictCacheFlood(t *testing.T) {
	c := NewClassifier()
	const working, flood = 20_000, 500_000
	agent := func(kind string, i int) Visit {
		return Visit{UserAgent: fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 %s", i, kind)}
	}
	for range 3 {
		for i := range working {
			c.Classify(agent("regular", i))
		}
	}
	for i := range flood {
		c.Classify(agent("flood", i))
		if i%5 == 0 { // the regular visitors keep coming, more slowly
			c.Classify(agent("regular", i/5%working))
		}
	}
	hits := 0
	for i := range working {
		v := agent("regular", i)
		if _, ok := c.verdicts.get(c.verdicts.key(v.UserAgent, v.Referer)); ok {
			hits++
		}
	}
	t.Logf("after a flood of %d new agents, %d of a working set of %d are still cached", flood, hits, working)
	if hits < working*9/10 {
		t.Errorf("%d of %d working-set agents cached after the flood, want at least 90%%", hits, working)
	}
}

// An agent enters the cache at its second miss: a flood of agents each seen
// once costs their classification, not as many insertions and evictions.
func TestVerdictCacheAdmitsAtSecondMiss(t *testing.T) {
	c := NewClassifier()
	agent := func(i int) Visit {
		return Visit{UserAgent: fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 once", i)}
	}
	cached := func(v Visit) bool {
		_, ok := c.verdicts.get(c.verdicts.key(v.UserAgent, v.Referer))
		return ok
	}
	const flood = 3 * seenReset // the doorkeeper is cleared three times
	for i := range flood {
		c.Classify(agent(i))
	}
	c.verdicts.entries.CleanUp()
	got := c.verdicts.entries.EstimatedSize()
	t.Logf("%d agents seen once: %d cached", flood, got)
	// Up to 1 in 8 may pass as seen before, sharing a bit with another.
	if got > flood/8 {
		t.Errorf("%d of %d agents seen once were cached, want at most 1 in 8", got, flood)
	}
	v := agent(flood)
	if c.Classify(v); cached(v) {
		t.Fatalf("an agent was cached at its first miss")
	}
	want := c.Classify(v)
	if !cached(v) {
		t.Fatalf("an agent was not cached at its second miss")
	}
	if got := c.Classify(v); got != want {
		t.Fatalf("cached verdict %+v, classified %+v", got, want)
	}
}

// The cache must not keep request memory: Fiber hands out strings that point
// into request buffers it reuses, which unsafe.String imitates here.
func TestClassifyCacheCopiesUserAgent(t *testing.T) {
	c := NewClassifier()
	buf := []byte("curl/8.7.1 (X11; Linux)")
	borrowed := unsafe.String(&buf[0], len(buf))
	for range 2 { // an agent enters the cache at its second miss
		if got := c.Classify(Visit{UserAgent: borrowed}); got.Class != Bot {
			t.Fatalf("curl: class %v, want bot", got.Class)
		}
	}
	if _, ok := c.verdicts.get(c.verdicts.key(borrowed, "")); !ok {
		t.Fatal("curl was not cached, so the cache's memory is not tested")
	}
	copy(buf, "Mozilla/5") // the server reuses its buffer for the next request
	if got := c.Classify(Visit{UserAgent: "curl/8.7.1 (X11; Linux)"}); got.Class != Bot {
		t.Errorf("after the buffer was reused, curl: class %v, want bot", got.Class)
	}
	if got := c.Classify(Visit{UserAgent: "Mozilla/5.7.1 (X11; Linux)"}); got.Class != Human {
		t.Errorf("the reused buffer's text: class %v, want human (a key aliased the buffer)", got.Class)
	}
}

func TestClassifyConcurrent(t *testing.T) {
	c := NewClassifier()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i, tc := range classifyCases {
				if (i+g)%2 == 0 {
					continue
				}
				if got, want := c.Classify(tc.visit()), tc.want(); got != want {
					t.Errorf("%s: got %+v, want %+v", tc.name, got, want)
				}
			}
		})
	}
	wg.Wait()
}

func TestDeviceOf(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want Device
	}{
		{"empty", "", Desktop},
		{"iPhone", safariIPhone, Mobile},
		{"iPod touch", "Mozilla/5.0 (iPod touch; CPU iPhone OS 9_3_5 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) Mobile/13G36", Mobile},
		{"Android phone", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Mobile},
		{"Android tablet", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Tablet},
		{"Tablet PC is a desktop", "Mozilla/5.0 (Windows NT 6.3; Win64; x64; Trident/7.0; Touch; Tablet PC 2.0; rv:11.0) like Gecko", Desktop},
		{"Tablet after Tablet PC", "Mozilla/5.0 (Tablet PC 2.0; Tablet; rv:1.0)", Tablet},
		{"Kindle e-reader", "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, like Gecko) Version/5.0 Safari/533.2+ Kindle/3.0+", Tablet},
		{"BlackBerry 10", "Mozilla/5.0 (BB10; Touch) AppleWebKit/537.35+ (KHTML, like Gecko) Version/10.3.3.3057 Mobile Safari/537.35+", Mobile},
		{"Mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", Desktop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeviceOf(tt.ua); got != tt.want {
				t.Errorf("DeviceOf(%q) = %v, want %v", tt.ua, got, tt.want)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  fmt.Stringer
		want string
	}{
		{"Human", Human, "human"},
		{"Preview", Preview, "preview"},
		{"Scanner", Scanner, "scanner"},
		{"Bot", Bot, "bot"},
		{"bad class", Class(200), "unknown"},
		{"Desktop", Desktop, "desktop"},
		{"Mobile", Mobile, "mobile"},
		{"Tablet", Tablet, "tablet"},
		{"bad device", Device(9), "unknown"},
		{"RefNone", RefNone, "none"},
		{"RefWebmail", RefWebmail, "webmail"},
		{"RefMessenger", RefMessenger, "messenger"},
		{"RefSocial", RefSocial, "social"},
		{"RefSearch", RefSearch, "search"},
		{"RefOther", RefOther, "other"},
		{"bad referrer", Referrer(77), "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := tt.got.String(); s != tt.want {
				t.Errorf("String() = %q, want %q", s, tt.want)
			}
		})
	}
}

func TestAppLists(t *testing.T) {
	tests := []struct {
		name  string
		get   func() []string
		first string
	}{
		{"PreviewApps", PreviewApps, "imessage"},
		{"InAppApps", InAppApps, "messenger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apps := tt.get()
			if apps[0] != tt.first || apps[len(apps)-1] != "other" {
				t.Errorf("%v: want %q first and \"other\" last", apps, tt.first)
			}
			seen := map[string]bool{}
			for _, a := range apps {
				if seen[a] {
					t.Errorf("%q listed twice", a)
				}
				seen[a] = true
				if a != strings.ToLower(a) || strings.ContainsAny(a, " .") {
					t.Errorf("%q is not a plain metric name", a)
				}
			}
			apps[0] = "changed"
			if tt.get()[0] != tt.first {
				t.Error("the returned slice is shared with the package")
			}
		})
	}
	if want := []string{"whatsapp", "signal", "imessage", "facebook", "telegram", "slack", "discord", "teams", "linkedin", "x", "viber", "snapchat", "pinterest", "reddit", "mastodon", "bluesky", "outlook", "other",
		"line", "kakaotalk", "yahoo", "vk", "mattermost", "matrix", "steam", "chatwork", "dingtalk", "keybase",
		"clickup", "asana", "quora", "tumblr"}; !sameSet(PreviewApps(), want) {
		t.Errorf("PreviewApps() = %v, want the set %v", PreviewApps(), want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// knownAppsWithNone is every App value Classify may return, "" included.
func knownAppsWithNone() map[string]bool {
	m := knownApps()
	m[""] = true
	return m
}

// knownApps is every App value Classify may return, besides "".
func knownApps() map[string]bool {
	m := map[string]bool{scannerMicrosoft: true}
	for _, rows := range [][]uaRow{inAppRows, previewRows, scannerRows} {
		for _, r := range rows {
			m[r.app] = true
		}
	}
	return m
}

var benchVisit = Visit{
	Method:    "GET",
	UserAgent: safariIPhone,
	Referer:   "https://mail.google.com/",
	IP:        netip.MustParseAddr(plainIP),
}

func BenchmarkClassifyCached(b *testing.B) {
	c := NewClassifier()
	c.Classify(benchVisit)
	c.Classify(benchVisit) // an agent enters the cache at its second miss
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(benchVisit)
	}
}

// BenchmarkClassifyFlood is a never-seen agent on every call, through the
// cache: a lookup that misses, a doorkeeper mark and a classification.
func BenchmarkClassifyFlood(b *testing.B) {
	c := NewClassifier()
	v := benchVisit
	prefix := safariIPhone + " n/"
	buf := []byte(prefix)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = strconv.AppendInt(buf[:len(prefix)], int64(i), 10)
		v.UserAgent = string(buf)
		i++
		c.Classify(v)
	}
}

func BenchmarkClassifyUncached(b *testing.B) {
	c := NewClassifier()
	uas := make([]string, 1024)
	for i := range uas {
		uas[i] = fmt.Sprintf("%s n/%d", safariIPhone, i)
	}
	v := benchVisit
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v.UserAgent = uas[i%len(uas)]
		i++
		byRequest(v, c.uncached(v.UserAgent, v.Referer))
	}
}
