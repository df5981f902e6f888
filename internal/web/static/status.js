// Heartbeat status page: follows the market events stream
// (/api/v1/events, Server-Sent Events) and refreshes the page's content in
// place at once when a market opens, closes, breaks or halts; refreshes it
// every data-refresh seconds for the jobs' figures, which are no events;
// and ticks the markets' local clocks and countdowns every second.
"use strict";

(function () {
  const body = document.body;
  const period = Math.max(1, Number(body.dataset.refresh) || 5) * 1000;
  const clocks = new Map();

  function localClock(zone) {
    if (!clocks.has(zone)) {
      clocks.set(zone, new Intl.DateTimeFormat("en-US", {
        timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
      }));
    }
    return clocks.get(zone);
  }

  function human(ms) {
    let s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    s %= 60;
    const two = (n) => String(n).padStart(2, "0");
    if (d > 0) return d + "d " + h + "h " + two(m) + "m";
    if (h > 0) return h + "h " + two(m) + "m";
    if (m > 0) return m + "m " + two(s) + "s";
    return s + "s";
  }

  const verbs = { open: "opens", "break": "breaks", halted: "halts", closed: "closes" };

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-zone]")) {
      try {
        el.textContent = localClock(el.dataset.zone).format(now);
      } catch (e) {
        // An unknown zone keeps the server's rendering.
      }
    }
    for (const el of document.querySelectorAll("[data-until]")) {
      const left = Number(el.dataset.until) - now;
      el.textContent = (verbs[el.dataset.verb] || "changes") + " in " + human(left);
    }
  }

  const state = document.getElementById("refresh-state");

  // load replaces the page's content and header with a fresh rendering.
  async function load() {
    const res = await fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.getElementById("content"), old = document.getElementById("content");
    if (fresh && old) old.replaceWith(fresh);
    const meta = doc.querySelector("header .meta"), oldMeta = document.querySelector("header .meta");
    if (meta && oldMeta) oldMeta.replaceWith(meta);
    tick();
  }

  async function refresh() {
    try {
      await load();
      body.dataset.refreshes = String(Number(body.dataset.refreshes) + 1);
      const s = document.getElementById("refresh-state");
      if (s) { s.textContent = ""; s.className = ""; }
    } catch (e) {
      const s = document.getElementById("refresh-state") || state;
      if (s) { s.textContent = "(refresh failed: " + e.message + ")"; s.className = "failed"; }
    } finally {
      setTimeout(refresh, period);
    }
  }

  // A market event refreshes the board at once (a refresh already due
  // soon is not doubled; the periodic refresh reports failures).
  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => { soon = null; load().catch(() => {}); }, 200);
  }

  const kinds = ["pre_open", "open", "break_start", "break_end", "halt_start", "halt_end", "close", "changed"];
  if (window.EventSource) {
    const es = new EventSource("/api/v1/events");
    const onEvent = (ev) => {
      let d = {};
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      body.dataset.events = String(Number(body.dataset.events) + 1);
      const el = document.getElementById("last-event");
      if (el) el.textContent = d.market + " " + ev.type.replace("_", " ") + " at " + String(d.at).slice(11, 19) + " UTC (session " + d.session + ")";
      refreshSoon();
    };
    for (const k of kinds) es.addEventListener(k, onEvent);
    // One snapshot per market on a fresh connection (none on a
    // reconnection, which resumes after the last event): the board's
    // phases refresh with it.
    es.addEventListener("snapshot", () => {
      body.dataset.snapshots = String(Number(body.dataset.snapshots || 0) + 1);
      refreshSoon();
    });
    // The browser reconnects by itself with Last-Event-ID: nothing missed,
    // nothing twice. The page says while it is away.
    const state = document.getElementById("events-state");
    const setState = (s) => {
      body.dataset.eventsState = s;
      if (state) state.textContent = s === "open" ? "" : " (reconnecting)";
    };
    es.onopen = () => setState("open");
    es.onerror = () => setState("reconnecting");
  }

  tick();
  setInterval(tick, 1000);
  setTimeout(refresh, period);
})();
