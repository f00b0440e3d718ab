/* darkshare share buttons: <div data-darkshare> plus this script; options are the data-* read in render(). */
(() => {
  "use strict";
  // A theme and a plugin may both add this file: render and listen once.
  if (window.darkshare && window.darkshare.init) return;

  // currentScript is only set during this first run. The service may sit
  // under a path prefix, so its base is whatever precedes /static/.
  const src = (document.currentScript || {}).src || "";
  const BASE = src.slice(0, Math.max(src.lastIndexOf("/static/"), 0));
  const CHANNELS = ["email", "sms", "whatsapp", "messenger", "telegram", "copy", "native", "qr"]; // the first 5 are links
  const NAMES = { sms: "SMS", whatsapp: "WhatsApp", messenger: "Messenger", telegram: "Telegram" };
  const T = {
    en: { group: "Share this page", email: "Email", copy: "Copy link", copied: "Copied", native: "Share…",
      qr: "QR code", qrAlt: "QR code of the link to this page", more: "Read more: " },
    fr: { group: "Partager cette page", email: "E-mail", copy: "Copier le lien", copied: "Copié", native: "Partager…",
      qr: "Code QR", qrAlt: "Code QR du lien vers cette page", more: "Lire la suite : " }
  };
  // Plain 24px line glyphs, not brand logos: a few bytes each.
  const ICONS = {
    email: "M3 6h18v12H3zm0 0 9 7 9-7",
    sms: "M4 5h16v11H9l-5 4z",
    whatsapp: "M4 20l1.3-4A8 8 0 1 1 8 18.7zM9 9c0 3 3 6 6 6",
    messenger: "M12 3a9 8.5 0 0 0-5 15.6V21l3-1.6A9 8.5 0 1 0 12 3zM7 14l4-4 2.5 2.5L17 10",
    telegram: "M21 4 3 11l6 2m12-9-3 16-9-7m12-9L9 13v6l3-4",
    copy: "M9 9h11v11H9zM5 15H4V4h11v1",
    native: "M12 15V3M8 7l4-4 4 4M5 12v8h14v-8",
    qr: "M4 4h6v6H4zm10 0h6v6h-6zM4 14h6v6H4zm10 0h2v2h-2zm4 4h2v2h-2z"
  };
  const uad = navigator.userAgentData;
  const MOBILE = uad ? !!uad.mobile : /Android|iPhone|iPad|iPod/.test(navigator.userAgent);
  // The code of the short link this page was reached through: the landing
  // marker the redirect added. The landing beacon may have taken it out of
  // the address bar already; the navigation's entry keeps the address the
  // page was loaded at. Held here while the page is open, and nowhere else.
  const MARKER = "dsl"; // link.MarkerParam
  const markerIn = (href) => {
    try {
      const v = new URL(href).searchParams.get(MARKER) || "";
      return /^[0-9A-Za-z_-]{1,32}$/.test(v) ? v : "";
    } catch (e) { return ""; }
  };
  const navigated = () => {
    try { return (performance.getEntriesByType("navigation")[0] || {}).name || ""; } catch (e) { return ""; }
  };
  const VIA = markerIn(location.href) || markerIn(navigated());
  const mints = {}; // by URL and channels: widgets alike share one request
  const tracked = []; // widgets with data-copy-tracking
  const seen = new WeakSet();
  let ids = 0;

  const debug = (e) => console.debug("darkshare:", e);
  const set = (e, attrs) => { for (const k in attrs) e.setAttribute(k, attrs[k]); return e; };
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  };
  const svg = (tag) => document.createElementNS("http://www.w3.org/2000/svg", tag);
  const post = (path, body, more) => fetch(BASE + path, Object.assign({
    method: "POST", body: JSON.stringify(body), credentials: "omit",
    // text/plain keeps this a CORS "simple request": no preflight round trip.
    headers: { "Content-Type": "text/plain;charset=UTF-8" }
  }, more));

  // A slow or absent service must never hold the buttons back: 3 s at most.
  const mint = (url, channels) => {
    const key = url + " " + channels;
    return mints[key] || (mints[key] = new Promise((resolve, reject) => {
      if (!BASE || !channels.length) throw new Error("nothing to mint");
      const ctl = new AbortController();
      const timer = setTimeout(() => { ctl.abort(); reject(new Error("timeout")); }, 3000);
      post("/api/v1/links", { url, channels }, { signal: ctl.signal })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
        .then(resolve, reject).then(() => clearTimeout(timer));
    }));
  };

  // A share by a reader who arrived through a short link names that link
  // (via): the service counts it as a reshare of it.
  const beacon = (code) => {
    const body = VIA ? { code, via: VIA } : { code };
    try {
      if (!(navigator.sendBeacon && navigator.sendBeacon(BASE + "/api/v1/shares", JSON.stringify(body)))) {
        post("/api/v1/shares", body, { keepalive: true }).catch(debug);
      }
    } catch (e) { debug(e); }
  };

  const link = (w, ch) => (w.links[ch] ? w.links[ch].short_url : w.url);

  const href = (w, ch) => {
    const e = encodeURIComponent, l = e(link(w, ch)), t = e(w.text);
    return {
      email: `mailto:?subject=${e(w.title)}&body=${t}%0A%0A${l}`,
      sms: `sms:?&body=${t}%20${l}`,
      whatsapp: `https://wa.me/?text=${t}%20${l}`,
      telegram: `https://t.me/share/url?url=${l}&text=${t}`,
      messenger: MOBILE ? `fb-messenger://share/?link=${l}`
        : `https://www.facebook.com/dialog/send?app_id=${e(w.app || "")}&link=${l}&redirect_uri=${e(w.url)}`
    }[ch];
  };

  const update = (w) => w.btns.forEach((b) => {
    const ch = b.dataset.channel;
    if (b.tagName === "A") b.href = href(w, ch);
    if (w.links[ch]) b.dataset.code = w.links[ch].code;
  });

  // Compact buttons get a label just for the two seconds of "Copied".
  const copied = (w, b) => {
    const span = b.querySelector(".darkshare__label") || b.appendChild(el("span", "darkshare__label"));
    span.textContent = w.live.textContent = w.t.copied;
    clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      if (w.compact) span.remove(); else span.textContent = w.t.copy;
      w.live.textContent = "";
    }, 2000);
  };

  const copy = (w, b) => {
    const text = link(w, "copy"), c = navigator.clipboard;
    (c ? c.writeText(text) : Promise.reject()).catch(() => {
      // No async clipboard (old browser, insecure context, refused). The
      // textarea goes in the widget, which is in view: select() scrolls to it.
      const ta = set(el("textarea", "darkshare__sr"), { readonly: "" });
      ta.value = text;
      b.parentNode.appendChild(ta);
      ta.select();
      const ok = document.execCommand("copy");
      ta.remove();
      b.focus();
      if (!ok) throw new Error("copy refused");
    }).then(() => copied(w, b), debug);
  };

  const toggleQR = (w, open) => {
    const img = w.qr.firstChild, l = w.links.qr;
    w.qr.hidden = !open;
    w.qrBtn.setAttribute("aria-expanded", open);
    if (open) {
      if (!img.src) img.src = (l.qr_url || `${BASE}/${l.code}/qr.png`) + "?size=256"; // fetched only if wanted
      w.qr.focus();
    } else {
      w.qrBtn.focus();
    }
  };

  const onClick = (w, e) => {
    const b = e.target.closest(".darkshare__btn");
    if (!b) return;
    const ch = b.dataset.channel;
    if (ch === "copy") copy(w, b);
    // Its usual rejection is AbortError: the reader closed the share sheet.
    if (ch === "native") navigator.share({ title: w.title, text: w.text, url: link(w, ch) }).catch(debug);
    if (ch === "qr") toggleQR(w, w.qr.hidden);
    if (b.dataset.code && !(ch === "qr" && w.qr.hidden)) beacon(b.dataset.code);
  };

  const render = (root, ready) => {
    const d = root.dataset;
    const t = T[/^fr/i.test(d.lang || document.documentElement.lang) ? "fr" : "en"];
    const canon = document.querySelector('link[rel~="canonical"][href]');
    const desc = document.querySelector('meta[name="description"][content]');
    const list = (d.channels || CHANNELS.join()).toLowerCase().split(",").map((s) => s.trim());
    const w = {
      t, links: {}, btns: [], app: d.fbAppId, compact: d.style === "compact", min: +d.copyMin || 120,
      url: d.url ? new URL(d.url, document.baseURI).href : canon ? canon.href : location.href.split("#")[0],
      title: d.title || document.title
    };
    w.text = d.text || (desc && desc.content) || w.title;
    const group = set(el("div", "darkshare darkshare--" + (w.compact ? "compact" : "full")),
      { role: "group", "aria-label": t.group });
    const toMint = [];
    [...new Set(list)].filter((ch) => CHANNELS.includes(ch)).forEach((ch) => {
      const isLink = CHANNELS.indexOf(ch) < 5, name = t[ch] || NAMES[ch];
      const b = el(isLink ? "a" : "button", `darkshare__btn darkshare__btn--${ch}${w.compact ? " darkshare__btn--icon" : ""}`);
      b.dataset.channel = ch;
      if (!isLink) b.type = "button";
      else if (ch === "whatsapp" || ch === "telegram" || (ch === "messenger" && !MOBILE)) set(b, { target: "_blank", rel: "noopener" });
      const i = b.appendChild(set(svg("svg"), { "class": "darkshare__icon darkshare__icon--" + ch, viewBox: "0 0 24 24",
        width: 20, height: 20, fill: "none", stroke: "currentColor", "aria-hidden": "true" }));
      i.appendChild(set(svg("path"), { d: ICONS[ch] }));
      if (w.compact) set(b, { "aria-label": name, title: name });
      else b.appendChild(el("span", "darkshare__label", name));
      // No share URL works for Messenger on desktop without an app id; the
      // QR code waits for its minted link.
      b.hidden = (ch === "messenger" && !MOBILE && !w.app) || (ch === "native" && !navigator.share) || ch === "qr";
      if (!b.hidden || ch === "qr") toMint.push(ch);
      w.btns.push(group.appendChild(b));
    });
    w.qrBtn = group.querySelector(".darkshare__btn--qr");
    if (w.qrBtn) {
      w.qr = set(el("div", "darkshare__qr"), { id: "darkshare-qr-" + ++ids, role: "dialog", "aria-label": t.qr, tabindex: -1 });
      set(w.qrBtn, { "aria-expanded": false, "aria-controls": w.qr.id });
      w.qr.hidden = true;
      w.qr.appendChild(set(el("img"), { width: 160, height: 160, alt: t.qrAlt }));
      group.appendChild(w.qr);
      // Focus is in the dialog or on its button, so Escape reaches the group.
      group.addEventListener("keydown", (e) => { if (e.key === "Escape" && !w.qr.hidden) toggleQR(w, false); });
    }
    w.live = group.appendChild(set(el("span", "darkshare__sr"), { role: "status", "aria-live": "polite" }));
    group.addEventListener("click", (e) => { try { onClick(w, e); } catch (err) { debug(err); } });
    if ("copyTracking" in d) {
      tracked.push(w);
      if (!toMint.includes("copy")) toMint.push("copy");
    }
    update(w);
    // Hidden, not display:none: the buttons keep their place, and the
    // page does not jump when they show. A style property, which the
    // host's CSP allows where a style attribute would not be.
    group.style.visibility = "hidden";
    ready.then(() => group.style.removeProperty("visibility"));
    root.textContent = ""; // drops any no-script fallback the site put there
    root.appendChild(group);
    root.dataset.darkshareState = "pending";
    mint(w.url, toMint).then((res) => {
      res.links.forEach((l) => { if (/^https?:\/\//.test(l.short_url)) w.links[l.channel] = l; });
      update(w);
      if (w.qrBtn) w.qrBtn.hidden = !w.links.qr;
      root.dataset.darkshareState = "ready";
    }).catch((e) => {
      debug(e);
      root.dataset.darkshareState = "fallback";
    });
  };

  const excluded = (n) => {
    n = n && n.nodeType !== 1 ? n.parentElement : n;
    return !!(n && n.closest("input,textarea,select,[contenteditable]:not([contenteditable=false]),pre,code"));
  };

  // A quote pasted into a chat brings its readers back by the copy link.
  const onCopy = (e) => {
    try {
      const w = tracked.find((x) => x.links.copy), sel = document.getSelection();
      if (!w || !e.clipboardData || !sel || !sel.rangeCount) return;
      const text = sel.toString(), l = w.links.copy, box = el("div");
      if (text.length < w.min || [e.target, document.activeElement, sel.anchorNode, sel.focusNode].some(excluded)) return;
      for (let i = 0; i < sel.rangeCount; i++) box.appendChild(sel.getRangeAt(i).cloneContents());
      // Built as DOM and serialised, so the HTML is escaped by construction.
      box.appendChild(el("p", "", w.t.more)).appendChild(el("a", "", l.short_url)).href = l.short_url;
      e.clipboardData.setData("text/html", box.innerHTML);
      e.clipboardData.setData("text/plain", `${text}\n\n${w.t.more}${l.short_url}`);
      e.preventDefault();
      beacon(l.code);
    } catch (err) { debug(err); }
  };

  // Resolves once share.css has loaded, failed, or taken 3 s: until then
  // the buttons stay invisible, so the site's own button styles never
  // flash. A failure shows them unstyled, which beats not at all.
  let styled;
  const stylesheet = () => styled || (styled = new Promise((resolve) => {
    const css = BASE + "/static/share.css";
    let link = BASE && document.querySelector(`link[href="${CSS.escape(css)}"]`);
    if (!BASE || (link && link.sheet)) return resolve();
    if (!link) {
      // First in <head>, so the site's own stylesheets, later, override ours.
      link = document.head.insertBefore(set(el("link"), { rel: "stylesheet", href: css }), document.head.firstChild);
    }
    link.addEventListener("load", resolve, { once: true });
    link.addEventListener("error", resolve, { once: true });
    setTimeout(resolve, 3000);
  }));

  const init = (root = document) => {
    try {
      const found = [...root.querySelectorAll("[data-darkshare]")].filter((x) => !seen.has(x));
      if (root.matches && root.matches("[data-darkshare]") && !seen.has(root)) found.unshift(root);
      if (!found.length) return;
      const ready = stylesheet();
      found.forEach((x) => {
        seen.add(x);
        try { render(x, ready); } catch (e) { debug(e); }
      });
    } catch (e) { debug(e); }
  };

  window.darkshare = { version: "1.0.0", init };
  document.addEventListener("copy", onCopy);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => init());
  else init();
})();
