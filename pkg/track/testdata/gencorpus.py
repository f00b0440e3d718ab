#!/usr/bin/env python3
"""Builds agents.tsv, the labelled user-agent corpus of pkg/track's tests.

Usage, from the repository root, with the three sources checked out at the
commits named in agents.tsv's header (PATH, or PATH@COMMIT when PATH is not a
git checkout):

    python3 pkg/track/testdata/gencorpus.py DEVICE_DETECTOR CRAWLER_USER_AGENTS \
        CRAWLERDETECT > pkg/track/testdata/agents.tsv

Needs PyYAML. Every row's class comes from its source's own label (a
device-detector client type or bot name, a crawler-user-agents tag, "crawler"
for crawlerdetect's list, or a hand-written row of manual.tsv with the page it
was taken from), mapped to darkshare's classes by the tables below, which are
written from those labels and never from what darkshare's classifier says.
Where a source's label and darkshare's meaning differ, the table says why.

Classes: human (a person in a browser or an app's built-in browser), preview
(an app fetching a link to draw a card), scanner (a mail gateway), bot
(everything else: crawlers, tools, libraries, an app's own HTTP client).
"""
import json
import os
import subprocess
import sys

import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:
    from yaml import SafeLoader as Loader

# device-detector bots.yml: bot name -> preview app. Every other bot is a bot.
DD_PREVIEW_BOTS = {
    "Facebook Crawler": "facebook",
    "LinkedIn Bot": "linkedin",
    "Mastodon Bot": "mastodon",
    "Pinterest": "pinterest",
    "Quora Link Preview": "quora",
    "Quora Bot": "quora",
    "Reddit Bot": "reddit",
    "Skype URI Preview": "teams",
    "Microsoft Preview": "teams",
    "Slackbot": "slack",
    "TelegramBot": "telegram",
    "Twitterbot": "x",
    "VK Share Button": "vk",
    "Yahoo! Link Preview": "yahoo",
    "Discord Bot": "discord",
    "Snap URL Preview Service": "snapchat",
    "Embedly": "other",
    "Iframely": "other",
    "LinkPreview": "other",
    "Flipboard": "other",
    "Odnoklassniki Bot": "other",
    "Asana": "asana",
    "Viber Url Downloader": "viber",
    "Synapse": "matrix",
    "Steam Chat URL Lookup": "steam",
    "Chatwork LinkPreview": "chatwork",
    "Bluesky": "bluesky",
    "KeybaseBot": "keybase",
}

# device-detector client names of apps whose built-in browser darkshare
# names, -> that name. Other apps' built-in browsers are people too, with no
# name expected.
DD_IN_APP = {
    "Facebook": "facebook",
    "Facebook Messenger": "messenger",
    "Facebook Messenger Lite": "messenger",
    "Instagram App": "instagram",
    "Instagram": "instagram",
    "LinkedIn": "linkedin",
    "Line": "line",
    "LINE": "line",
    "Snapchat": "snapchat",
    "TikTok": "tiktok",
    "TikTok Lite": "tiktok",
    "WeChat": "wechat",
    "Google Search App": "google",
    "Twitter": "twitter",
    "Pinterest": "pinterest",
    "KakaoTalk": "kakaotalk",
    "NAVER": "naver",
    "Naver": "naver",
    "Viber": "viber",
    "Zalo": "zalo",
    "Telegram": "telegram",
    "WhatsApp": "whatsapp",
    "Threads": "threads",
}

# device-detector mobile apps without a browser engine whose requests to a
# link are previews: a chat app fetches a link only to draw its card.
DD_PREVIEW_APPS = {
    "Apple iMessage": "imessage",
    "WhatsApp": "whatsapp",
}

# device-detector "browser" fixtures that are no browser's page request.
DD_NOT_BROWSERS = {
    "iPhone11Pro": "a bare device name, no browser's format",
    "server-bag [iPhone OS,14.1,18A8395,iPad7,5]": "iOS fetching its carrier bundle",
}

# device-detector client types that are not browsers: bots, whatever the
# user agent looks like (feed readers, podcast and media players, HTTP
# libraries). "pim" (mail clients) is decided row by row: see dd_label.
DD_BOT_TYPES = {"feed reader", "mediaplayer", "library"}

# crawler-user-agents patterns tagged social-preview -> app; an entry of None
# means the tag does not fit darkshare's meaning of a preview (reason given),
# and the row is a bot, or the class given.
CUA_PREVIEW = {
    "LinkedInBot": "linkedin",
    "facebookexternalhit": "facebook",
    "Twitterbot": "x",
    "Facebot": "facebook",
    "Slack-ImgProxy": "slack",
    "Embedly": "other",
    "SkypeUriPreview": "teams",
    "Slackbot": "slack",
    "redditbot": "reddit",
    "WhatsApp": "whatsapp",
    "pinterest\\.com\\/bot": "pinterest",
    "BingPreview\\/": "outlook",
    "Yahoo Link Preview": "yahoo",
    "Discordbot": "discord",
    "TelegramBot": "telegram",
    "Mastodon": "mastodon",
    "vkShare": "vk",
    "Viber": "viber",
    "Snap URL Preview Service": "snapchat",
    "SnapURLPreview\\/": "snapchat",
    "Valve\\/Steam": "steam",
    "OdklBot\\/": "other",
    "Synapse": "matrix",
    "Iframely": "other",
    "KeybaseBot": "keybase",
    "SummalyBot": "mastodon",
    "MicrosoftPreview\\/": "teams",
    "BlueskyPreviewBot": "bluesky",
    "Chatwork LinkPreview": "chatwork",
    "DingTalkBot-LinkService": "dingtalk",
    "ClickUpLinkUnfurler": "clickup",
    "Mattermost-Bot\\/": "mattermost",
    "Quora-Bot": "quora",
    "Tumblr\\/": "tumblr",
    "Meta-ExternalHit\\/": "facebook",
    "GroupMeBot": "other",
    "Lemmy": "other",
    "Friendica": "other",
    "Discourse Forum Onebox": "other",
    "Xing Bot": "other",
    "EvernoteRichLinkBot": "other",
    "Notion\\/": "other",
    "BufferLinkPreviewBot": "other",
    "LoomlyBot": "other",
    "Orlo-LinkPreview\\/": "other",
    "^ArenaUnfurlBot": "other",
    "LMArenaUnfurlBot": "other",
    "Mediumbot-MetaTagFetcher": "other",
    "GG PeekBot": "other",
    "CodaBot": "other",
    "Goodreads": "other",
    "FlipboardProxy": "other",
    "OpenGraph\\.io\\/": "other",
    "Shortwave Image Fetcher": "other",
    "TweetmemeBot": "other",
    "AddThis": "other",
    "Jetslide": "other",
    "newsharecounts": "other",
    "EveryoneSocialBot": "other",
    "NING\\/": "other",
    "Hatena": "other",
    "Google Web Preview": "other",
    "VKRobot": "other",
    "Dazzle BlueSky Bot": "other",
    "dbot\\)": "other",
    # Not previews in darkshare's sense:
    "meta-externalagent\\/": None,  # Meta's crawler page: trains and indexes
    "meta-externalfetcher\\/": None,  # fetches for Meta AI on a user's request
    "meta-webindexer": None,  # indexes for Meta AI search
    "TikTokSpider": None,  # TikTok's crawler
    "Linespider": None,  # LINE's search crawler, not its link preview
    "bluesky-domain-status-classifier": None,  # classifies domains
    "Bluesky\\/": None,  # a bare "Bluesky/" with no version: no card fetcher
    "AASA-Bot": None,  # reads apple-app-site-association files
    "GoogleImageProxy": None,  # Gmail's image proxy: images in mail, no link
    "github-camo": None,  # GitHub's image proxy
    "YahooMailProxy": None,  # Yahoo Mail's image proxy
    "TwilioProxy\\/": None,  # an API proxy
    "FastmailUA": None,  # Fastmail's fetcher, undocumented purpose
    "Supabase Paired Crawler": None,  # a crawler
    "MetaIAB Facebook": "human:facebook",  # Facebook's in-app browser
}


def split_rev(arg):
    """Splits PATH[@COMMIT]; without a commit, asks git for the checkout's."""
    path, _, rev = arg.partition("@")
    return path, rev or git_rev(path)


# crawler-user-agents entries whose tag does not fit darkshare's classes
# although they are not tagged social-preview: (class, app, reason).
CUA_OVERRIDE = {
    "Asana\\/": ("preview", "asana", "Asana's link unfurler (device-detector: Asana, a Service Agent)"),
}


def git_rev(path):
    try:
        return subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dd_label(x):
    """Returns (class, app) for a device-detector fixture, or None to leave it out."""
    ua = x["user_agent"]
    client = x.get("client") or {}
    ctype, name = client.get("type"), client.get("name")
    browser_engine = "Mozilla/" in ua
    if ctype == "browser":
        if ua in DD_NOT_BROWSERS:
            return "bot", ""
        if ua.startswith("Dalvik/") or "CFNetwork/" in ua:
            # A browser app's own HTTP stack (downloads, favicons, sync), not
            # its engine showing a page: device-detector names the app.
            return "bot", ""
        return "human", ""
    if ctype == "mobile app":
        if browser_engine:
            if "headers" in x:
                # Named from the X-Requested-With header, which darkshare
                # does not read: a person, with no name to expect.
                return "human", ""
            return "human", DD_IN_APP.get(name, "")
        if name in DD_PREVIEW_APPS:
            return "preview", DD_PREVIEW_APPS[name]
        return "bot", ""  # the app's own HTTP client: nobody reads a page there
    if ctype == "pim":
        if name == "Microsoft Outlook":
            return "preview", "outlook"  # Outlook fetches a link to preview it
        if browser_engine:
            return "human", ""  # Thunderbird, SeaMonkey: Gecko shows the page
        return None  # Apple Mail, The Bat!: what they fetch a link for is unknown
    if ctype in DD_BOT_TYPES:
        return "bot", ""
    return None  # no client named: device-detector does not know either


def device_detector(root):
    rows = []
    fixtures = os.path.join(root, "Tests", "fixtures")
    for bot in yaml.load(open(os.path.join(fixtures, "bots.yml")), Loader=Loader):
        name = bot["bot"]["name"]
        if name in DD_PREVIEW_BOTS:
            rows.append(("preview", DD_PREVIEW_BOTS[name], "device-detector bots.yml: " + name, bot["user_agent"]))
        else:
            rows.append(("bot", "", "device-detector bots.yml: " + name, bot["user_agent"]))
    # Browsers: the first fixture of each browser, device type and OS; every
    # other client: all fixtures.
    seen = set()
    for fn in sorted(os.listdir(fixtures)):
        if not fn.endswith(".yml") or fn == "bots.yml":
            continue
        for x in yaml.load(open(os.path.join(fixtures, fn)), Loader=Loader) or []:
            label = dd_label(x)
            if label is None:
                continue
            client = x.get("client") or {}
            if client.get("type") == "browser":
                key = (client.get("name"), (x.get("device") or {}).get("type"), (x.get("os") or {}).get("name"))
                if key in seen:
                    continue
                seen.add(key)
            rows.append((label[0], label[1], "device-detector %s: %s %s" % (fn, client.get("type"), client.get("name")), x["user_agent"]))
    return rows


def crawler_user_agents(root):
    rows = []
    for entry in json.load(open(os.path.join(root, "crawler-user-agents.json"))):
        pattern, tags = entry["pattern"], entry.get("tags", [])
        cls, app = "bot", ""
        if pattern in CUA_OVERRIDE:
            cls, app, _ = CUA_OVERRIDE[pattern]
        elif "social-preview" in tags:
            if pattern not in CUA_PREVIEW:
                raise SystemExit("gencorpus: label the social-preview pattern %r in CUA_PREVIEW" % pattern)
            mapped = CUA_PREVIEW[pattern]
            if mapped is None:
                cls, app = "bot", ""
            elif mapped.startswith("human:"):
                cls, app = "human", mapped[len("human:"):]
            else:
                cls, app = "preview", mapped
        for ua in entry.get("instances", []):
            rows.append((cls, app, "crawler-user-agents: %s [%s]" % (pattern, ",".join(tags)), ua))
    return rows


# crawlerdetect's list does not tell previews from crawlers: rows naming a
# preview fetcher (by the product tokens its vendor documents) are left to
# the sources that do.
CD_SKIP_TOKENS = ("facebookexternalhit", "facebot", "whatsapp", "telegrambot", "slackbot", "slack-imgproxy",
                  "discordbot", "linkedinbot", "twitterbot", "skypeuripreview", "pinterest", "redditbot",
                  "vkshare", "embedly", "iframely", "viber", "snap url preview", "bingpreview", "mastodon",
                  "yahoo link preview", "quora", "microsoftpreview", "google web preview", "flipboard",
                  "tumblr", "synapse", "keybase", "chatwork", "dingtalk", "steamchat")


def crawlerdetect(root, every):
    rows = []
    with open(os.path.join(root, "testdata", "crawlers.txt"), encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            ua = line.rstrip("\n")
            if not ua.strip() or i % every:
                continue
            if any(t in ua.lower() for t in CD_SKIP_TOKENS):
                continue
            rows.append(("bot", "", "crawlerdetect testdata/crawlers.txt", ua))
    return rows


def manual(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cls, app, source, ua = line.rstrip("\n").split("\t", 3)
        rows.append((cls, app, source, ua))
    return rows


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    (dd, dd_rev), (cua, cua_rev), (cd, cd_rev) = (split_rev(a) for a in sys.argv[1:])
    here = os.path.dirname(os.path.abspath(__file__))
    sources = [
        manual(os.path.join(here, "manual.tsv")),
        crawler_user_agents(cua),
        device_detector(dd),
        crawlerdetect(cd, 3),
    ]
    print("# Labelled user agents for pkg/track's corpus test. Generated by gencorpus.py; do not edit.")
    print("# Sources: manual.tsv (hand-written, each row's page named); matomo-org/device-detector %s"
          " (LGPL-3.0); monperrus/crawler-user-agents %s (MIT); x-way/crawlerdetect %s testdata,"
          " every third line (MIT)." % (dd_rev, cua_rev, cd_rev))
    print("# class\tapp\tsource\tuser_agent")
    seen = set()
    for rows in sources:
        for cls, app, source, ua in rows:
            if ua in seen or "\n" in ua or "\t" in ua or "\r" in ua:
                continue
            seen.add(ua)
            print("%s\t%s\t%s\t%s" % (cls, app, source.replace("\t", " "), ua))


if __name__ == "__main__":
    main()
