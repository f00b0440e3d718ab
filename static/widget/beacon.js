/* darkshare landing beacon: reports this page view, once, to the darkshare service this file came from.
   Add <script src="https://<darkshare>/static/beacon.js" async></script>. No cookie, no storage, no global. */
(() => {
  "use strict";
  const MARKER = "dsl"; // link.MarkerParam: the redirect adds ?dsl=<code> when --landing-marker is on

  const decode = (s) => {
    try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch (e) { return s; }
  };

  // The query without the marker's pairs, the others byte for byte:
  // URLSearchParams would re-encode the site's own parameters.
  const split = (search) => {
    let code = "", found = false;
    const kept = search.slice(1).split("&").filter((pair) => {
      const eq = pair.indexOf("=");
      if (decode(eq < 0 ? pair : pair.slice(0, eq)) !== MARKER) return true;
      if (!found) code = eq < 0 ? "" : decode(pair.slice(eq + 1));
      found = true;
      return false;
    });
    const rest = kept.join("&");
    return { code, found, query: !found ? search : rest ? "?" + rest : "" };
  };

  const send = (base) => {
    const { code, query, found } = split(location.search);
    const page = location.origin + location.pathname + query;
    // The reader who copies the address must not pass the marker on: a
    // view through their copy is not a view through our link.
    if (found) {
      try { history.replaceState(history.state, "", page + location.hash); } catch (e) { /* sandboxed frame: leave it */ }
    }
    const og = document.querySelector('meta[property="og:type"]');
    // The fragment stays home: it can hold tokens, and no page is told
    // apart by it.
    const body = JSON.stringify({
      url: page, referrer: document.referrer, marker: code,
      kind: og ? (og.getAttribute("content") || "").trim().toLowerCase() : ""
    });
    const api = base + "/api/v1/views";
    // text/plain keeps both a CORS "simple request": no preflight.
    if (!(navigator.sendBeacon && navigator.sendBeacon(api, body)) && window.fetch) {
      fetch(api, { method: "POST", body, keepalive: true, credentials: "omit", mode: "no-cors",
        headers: { "Content-Type": "text/plain;charset=UTF-8" } }).catch(() => {});
    }
  };

  try {
    // currentScript is only set during this first run. The service may sit
    // under a path prefix: its base is whatever precedes /static/.
    const src = (document.currentScript || {}).src || "";
    const at = src.lastIndexOf("/static/");
    if (at < 0 || !/^https?:$/.test(location.protocol)) return;
    const go = () => { try { send(src.slice(0, at)); } catch (e) { /* a page view is never worth an error */ } };
    // A page the browser prerenders may never be seen: count it when it is.
    if (document.prerendering) document.addEventListener("prerenderingchange", go, { once: true });
    else go();
  } catch (e) { /* as above */ }
})();
