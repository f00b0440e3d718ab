/* darkshare's own pages: dates in the reader's locale, arrow keys on the charts' days, and copy buttons.
   The pages read fine without it: dates stay as YYYY-MM-DD (UTC), and every chart has a table. */
(() => {
  "use strict";
  // Days are UTC days: format them in UTC, or a reader west of Greenwich sees the day before.
  const days = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
  const localDay = (iso) => {
    const d = new Date(iso + "T00:00:00Z");
    return isNaN(d) ? iso : days.format(d);
  };
  document.querySelectorAll("time[datetime]").forEach((e) => { e.textContent = localDay(e.getAttribute("datetime")); });
  document.querySelectorAll("[data-date]").forEach((e) => { e.textContent = localDay(e.dataset.date); });

  // One Tab stop per chart; arrow keys, Home and End move between its days.
  document.querySelectorAll(".chart svg").forEach((svg) => {
    const all = [...svg.querySelectorAll(".day")];
    all.forEach((g) => g.setAttribute("aria-label", [...g.querySelectorAll(".tip text")].map((t) => t.textContent).join(". ")));
    svg.addEventListener("keydown", (e) => {
      const i = all.indexOf(document.activeElement);
      const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: all.length - 1 }[e.key];
      if (i < 0 || to === undefined) return;
      e.preventDefault();
      const next = all[Math.max(0, Math.min(all.length - 1, to))];
      all[i].tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    });
  });

  // <button data-copy="text">: copies the text and says so for two seconds.
  document.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-copy]");
    if (!b) return;
    const label = b.dataset.label || (b.dataset.label = b.textContent);
    const done = (text) => {
      b.textContent = text;
      clearTimeout(b.timer);
      b.timer = setTimeout(() => { b.textContent = label; }, 2000);
    };
    const c = navigator.clipboard;
    (c ? c.writeText(b.dataset.copy) : Promise.reject(new Error("no clipboard"))).then(() => done("Copied"), () => done("Copy failed"));
  });
})();
