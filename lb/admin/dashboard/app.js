// ebb-lb dashboard: polls the admin API (SPEC §5) every second and renders pools, backends,
// listeners, charts and events. Rates and latency quantiles are derived here from counter and
// histogram deltas between polls. No dependencies; works on any modern browser.
(function () {
  "use strict";

  const POLL_MS = 1000;
  const WINDOW_S = 5;          // rates and quantiles use the last ~5 s of samples
  const CHART_S = 300;         // charts show the last 5 minutes
  const MAX_EVENTS = 200;
  const TOKEN_KEY = "ebb-admin-token";
  const $ = (id) => document.getElementById(id);

  // ---- state -------------------------------------------------------------------------------
  const counters = new Map();  // key -> [{t, v}] recent samples of one counter (or histogram)
  const series = new Map();    // pool -> [{t, rps, p50, p95}]
  const healthSeen = new Map();// pool|backend -> {counts: {result: n}, last: result}
  const pools = new Map();     // pool -> {el, rows: Map(address -> row elements)}
  let lastSeq = 0;
  let events = [];             // newest last
  let failures = 0;
  let firstLoad = true;
  let poolIds = 0;

  // ---- small helpers -----------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  const fmtRate = (x) => x == null ? "—" : x < 10 ? x.toFixed(1) : Math.round(x).toString();
  const fmtPerS = (x) => x == null ? "—" : fmtRate(x) + "/s";
  function fmtMs(x) {
    if (x == null || !isFinite(x)) return "—";
    return (x < 1 ? x.toFixed(2) : x < 10 ? x.toFixed(1) : Math.round(x).toString()) + " ms";
  }
  function fmtBytes(x) {
    if (x == null) return "—";
    const u = ["B", "KB", "MB", "GB"];
    let i = 0;
    while (x >= 1000 && i < u.length - 1) { x /= 1000; i++; }
    return (x < 10 && i ? x.toFixed(1) : Math.round(x)) + " " + u[i] + "/s";
  }
  function ago(ms) {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }
  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

  // Records a counter sample; returns the per-second rate over the window (null until two
  // samples exist). A counter that goes down (ebb-lb restarted) starts over.
  function rate(key, t, v) {
    let s = counters.get(key);
    if (!s) counters.set(key, s = []);
    if (s.length && v < s[s.length - 1].v) s.length = 0;
    s.push({ t, v });
    while (s.length > 2 && t - s[0].t > WINDOW_S * 1000) s.shift();
    const dt = (t - s[0].t) / 1000;
    // Times are the browser's, taken when the answer arrives: over one short interval a
    // delayed answer followed by a prompt one would show a spike, so wait for 1.5 s of history.
    return dt >= 1.5 ? (v - s[0].v) / dt : null;
  }

  // ---- /metrics parsing --------------------------------------------------------------------
  function parseMetrics(text) {
    const out = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const l of text.split("\n")) {
      if (!l || l[0] === "#") continue;
      const m = line.exec(l);
      if (!m) continue;
      const labels = {};
      if (m[2]) for (const lm of m[2].matchAll(label)) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
      out.push({ name: m[1], labels, value: parseFloat(m[3]) });
    }
    return out;
  }

  // Cumulative histogram buckets [{le, c}] → quantile in the bucket's unit (Prometheus'
  // histogram_quantile: linear interpolation inside the bucket holding the rank).
  function quantile(q, buckets) {
    if (!buckets.length) return null;
    const total = buckets[buckets.length - 1].c;
    if (!(total > 0)) return null;
    const rank = q * total;
    let prevLe = 0, prevC = 0;
    for (const b of buckets) {
      if (b.c >= rank) {
        if (b.le === Infinity) return prevLe;
        const inBucket = b.c - prevC;
        return prevLe + (b.le - prevLe) * (inBucket > 0 ? (rank - prevC) / inBucket : 0);
      }
      prevLe = b.le; prevC = b.c;
    }
    return prevLe;
  }

  // Histogram delta over the window for one key: keeps bucket snapshots like rate() does.
  function histogramWindow(key, t, buckets) {
    let s = counters.get(key);
    if (!s) counters.set(key, s = []);
    const total = buckets.length ? buckets[buckets.length - 1].c : 0;
    if (s.length && total < s[s.length - 1].v) s.length = 0;
    s.push({ t, v: total, buckets });
    while (s.length > 2 && t - s[0].t > WINDOW_S * 1000) s.shift();
    if (s.length < 2) return [];
    const old = new Map(s[0].buckets.map((b) => [b.le, b.c]));
    return buckets.map((b) => ({ le: b.le, c: b.c - (old.get(b.le) || 0) }));
  }

  function sumBuckets(list) {  // list of bucket arrays with the same bounds
    const m = new Map();
    for (const bs of list) for (const b of bs) m.set(b.le, (m.get(b.le) || 0) + b.c);
    return [...m.entries()].map(([le, c]) => ({ le, c })).sort((a, b) => a.le - b.le);
  }

  // ---- polling -----------------------------------------------------------------------------
  async function getJSON(path) {
    const r = await fetchWithTimeout(path, {});
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }
  async function fetchWithTimeout(path, opts) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 4000);
    try {
      return await fetch(path, Object.assign({ cache: "no-store", signal: ctl.signal }, opts));
    } finally {
      clearTimeout(timer);
    }
  }

  async function poll() {
    let delay = POLL_MS;
    try {
      const reconnect = failures > 0;
      const [poolList, metricsText, newEvents] = await Promise.all([
        getJSON("/api/v1/pools"),
        fetchWithTimeout("/metrics", {}).then((r) => { if (!r.ok) throw new Error("/metrics: HTTP " + r.status); return r.text(); }),
        getJSON("/api/v1/events?since=" + (reconnect ? 0 : lastSeq)),
      ]);
      const t = Date.now();
      const restarted = reconnect || detectRestart(poolList);
      if (restarted) {
        counters.clear();
        healthSeen.clear();
        lastSeq = 0;
        events = [];
      }
      let evs = newEvents;
      if (restarted && !reconnect) evs = await getJSON("/api/v1/events");
      failures = 0;
      ingestEvents(evs);
      render(t, poolList, parseMetrics(metricsText));
      setConn("live", "live · updated " + clock(t));
      firstLoad = false;
    } catch (err) {
      failures++;
      delay = Math.min(5000, POLL_MS * 2 ** Math.min(failures - 1, 3));
      setConn("disconnected", "disconnected, retrying in " + Math.round(delay / 1000) + " s (attempt " + failures + ")");
      document.body.dataset.stale = "true";
    }
    setTimeout(poll, delay);
  }

  // A backend's request counter going down means a new ebb-lb process answered.
  function detectRestart(poolList) {
    for (const p of poolList) for (const b of p.backends) {
      const s = counters.get("req|" + p.name + "|" + b.address);
      if (s && s.length && b.requests < s[s.length - 1].v) return true;
    }
    return false;
  }

  function setConn(state, text) {
    const c = $("conn");
    c.dataset.conn = state;
    c.textContent = text;
    if (state === "live") delete document.body.dataset.stale;
  }

  // ---- events ------------------------------------------------------------------------------
  const BAD_EVENT = /unhealthy|rejected|fail|error/i;
  function ingestEvents(evs) {
    if (!Array.isArray(evs) || !evs.length) { if (!events.length) renderEvents(); return; }
    const fresh = evs.filter((e) => e.seq > lastSeq);
    if (!fresh.length) return;
    lastSeq = fresh[fresh.length - 1].seq;
    events = events.concat(fresh).slice(-MAX_EVENTS);
    renderEvents();
    if (!firstLoad) {  // announce only health changes, and only once they happen
      const health = fresh.filter((e) => e.type === "health");
      if (health.length) {
        const e = health[health.length - 1];
        $("announce").textContent = e.pool + " " + e.backend + ": " + e.message;
      }
    }
  }

  function renderEvents() {
    const list = $("events");
    list.replaceChildren();
    if (!events.length) { list.append(el("li", { class: "muted", text: "no events yet" })); return; }
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      const where = [e.pool, e.backend].filter(Boolean).join(" ");
      list.append(el("li", { class: BAD_EVENT.test(e.message) ? "ev-bad" : "", "data-type": e.type },
        el("time", { datetime: e.time || "", text: clock(e.time_ms), title: e.time || "" }),
        el("span", { class: "ev-type", text: e.type.replace(/_/g, " ") }),
        el("span", { class: "ev-msg", text: (where ? where + ": " : "") + e.message })));
    }
  }

  function lastChange(pool, address) {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e.pool === pool && e.backend === address && e.type !== "registration") return e;
    }
    return null;
  }

  // ---- rendering ---------------------------------------------------------------------------
  function render(t, poolList, metrics) {
    const hist = new Map();    // pool|backend -> buckets
    const health = new Map();  // pool|backend -> {result: count}
    const listeners = new Map();
    const lis = (name) => {
      if (!listeners.has(name)) listeners.set(name, { pools: new Set(), active: 0, req: 0, err: 0, bin: 0, bout: 0 });
      return listeners.get(name);
    };
    for (const m of metrics) {
      const L = m.labels;
      if (m.name === "ebb_request_duration_seconds_bucket") {
        const k = L.pool + "|" + L.backend;
        if (!hist.has(k)) hist.set(k, []);
        hist.get(k).push({ le: L.le === "+Inf" ? Infinity : parseFloat(L.le) * 1000, c: m.value });
      } else if (m.name === "ebb_health_checks_total") {
        const k = L.pool + "|" + L.backend;
        if (!health.has(k)) health.set(k, {});
        health.get(k)[L.result] = m.value;
      } else if (m.name === "ebb_connections_active") {
        lis(L.listener).active = m.value;
      } else if (m.name === "ebb_requests_total" && L.listener) {
        const l = lis(L.listener);
        if (L.pool) l.pools.add(L.pool);
        l.req += m.value;
        if (L.code === "5xx") l.err += m.value;
      } else if (m.name === "ebb_bytes_total" && L.listener) {
        if (/^(in|rx|received|read)/.test(L.direction)) lis(L.listener).bin += m.value;
        else lis(L.listener).bout += m.value;
      }
    }
    for (const b of hist.values()) b.sort((x, y) => x.le - y.le);
    renderListeners(t, listeners);

    const seen = new Set();
    for (const p of poolList) {
      seen.add(p.name);
      renderPool(t, p, hist, health);
    }
    for (const [name, view] of pools) if (!seen.has(name)) { view.el.remove(); pools.delete(name); series.delete(name); }
  }

  function renderListeners(t, listeners) {
    const body = $("listeners").tBodies[0];
    body.replaceChildren();
    if (!listeners.size) { body.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: "no listener metrics" }))); return; }
    for (const [name, l] of [...listeners.entries()].sort()) {
      const rps = rate("lreq|" + name, t, l.req), eps = rate("lerr|" + name, t, l.err);
      const bin = rate("lin|" + name, t, l.bin), bout = rate("lout|" + name, t, l.bout);
      body.append(el("tr", { "data-listener": name },
        el("th", { scope: "row", text: name }),
        el("td", { text: [...l.pools].sort().join(", ") || "—" }),
        el("td", { class: "num", text: String(l.active) }),
        el("td", { class: "num", text: fmtRate(rps) }),
        el("td", { class: "num", text: fmtRate(eps) }),
        el("td", { class: "num", text: fmtBytes(bin) + " / " + fmtBytes(bout) })));
    }
  }

  function poolView(p) {
    let v = pools.get(p.name);
    if (v) return v;
    const id = "pool-" + ++poolIds;
    const rpsFig = chartFigure("Requests/s", "rps");
    const latFig = chartFigure("Latency", "latency");
    const table = el("table", { class: "grid backends" },
      el("caption", { class: "sr-only", text: "Backends of pool " + p.name }),
      el("thead", {}, el("tr", {}, ...["State", "Backend", "Weight", "In-flight", "Req/s", "p50", "p95",
        "Health check", "Last change", "Actions"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody"));
    const head = el("div", { class: "pool-head" },
      el("h2", { id, text: "Pool " + p.name }), el("span", { class: "muted pool-summary" }));
    const section = el("section", { class: "pool", "data-pool": p.name, "aria-labelledby": id },
      head, el("div", { class: "charts" }, rpsFig.fig, latFig.fig), el("div", { class: "scroll" }, table));
    $("pools").append(section);
    v = { el: section, head, table, rows: new Map(), rpsFig, latFig };
    pools.set(p.name, v);
    return v;
  }

  function renderPool(t, p, hist, health) {
    const v = poolView(p);
    const backends = [...p.backends].sort((a, b) => a.address.localeCompare(b.address));
    let poolRps = 0, anyRate = false;
    const poolBuckets = [];
    const counts = {};
    for (const b of backends) {
      counts[b.state] = (counts[b.state] || 0) + 1;
      const k = p.name + "|" + b.address;
      const rps = rate("req|" + k, t, b.requests);
      if (rps != null) { poolRps += rps; anyRate = true; }
      const win = hist.has(k) ? histogramWindow("hist|" + k, t, hist.get(k)) : [];
      if (win.length) poolBuckets.push(win);
      renderBackend(v, p.name, b, rps, win, health.get(k));
    }
    for (const [addr, row] of v.rows) if (!backends.some((b) => b.address === addr)) { row.tr.remove(); v.rows.delete(addr); }
    // backend rows in address order; moved only when out of order (a move would drop focus)
    const body = v.table.tBodies[0];
    backends.forEach((b, i) => {
      const tr = v.rows.get(b.address).tr;
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
    });

    const summary = Object.entries(counts).map(([s, n]) => n + " " + s).join(", ") || "no backends";
    v.head.querySelector(".pool-summary").textContent = "balance " + p.balance + " · " + summary;

    const merged = sumBuckets(poolBuckets);
    const point = { t, rps: anyRate ? poolRps : null, p50: quantile(0.5, merged), p95: quantile(0.95, merged) };
    let s = series.get(p.name);
    if (!s) series.set(p.name, s = []);
    if (point.rps != null) s.push(point);
    while (s.length && t - s[0].t > CHART_S * 1000) s.shift();
    drawChart(v.rpsFig, t, s, [["rps", "l-rps"]], fmtPerS);
    v.rpsFig.value.textContent = fmtPerS(point.rps);
    drawChart(v.latFig, t, s, [["p50", "l-p50"], ["p95", "l-p95"]], fmtMs);
    v.latFig.value.textContent = "p50 " + fmtMs(point.p50) + " · p95 " + fmtMs(point.p95);
  }

  function backendRow(v, pool, address) {
    let r = v.rows.get(address);
    if (r) return r;
    const td = (label, cls) => el("td", { "data-label": label, class: cls || "" });
    r = { tr: el("tr", { "data-backend": address }) };
    r.state = td("State"); r.addr = td("Backend"); r.weight = td("Weight", "num"); r.active = td("In-flight", "num");
    r.rps = td("Req/s", "num"); r.p50 = td("p50", "num"); r.p95 = td("p95", "num"); r.hc = td("Health check");
    r.change = td("Last change", "change"); r.actions = td("Actions");
    r.badge = el("span", { class: "state" });
    r.state.append(r.badge);
    r.addr.append(el("code", { text: address }));
    r.drain = el("button", { type: "button" });
    r.drain.addEventListener("click", () => {
      const undrain = r.tr.dataset.state === "draining";
      act(pool, address, { state: undrain ? "healthy" : "draining" }, (undrain ? "undrained " : "draining ") + address);
    });
    const wid = "w-" + pool + "-" + address;
    r.weightInput = el("input", { type: "number", min: "0", step: "1", id: wid, inputmode: "numeric" });
    const form = el("form", { class: "actions" }, r.drain,
      el("label", { for: wid, class: "sr-only", text: "Weight of " + address }), r.weightInput,
      el("button", { type: "submit", text: "Set weight" }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const n = Number(r.weightInput.value);
      if (!Number.isInteger(n) || n < 0) { notice("Weight must be a whole number ≥ 0", true); return; }
      r.weightInput.dataset.dirty = "";
      act(pool, address, { weight: n }, "weight of " + address + " set to " + n);
    });
    r.weightInput.addEventListener("input", () => { r.weightInput.dataset.dirty = "1"; });
    r.actions.append(form);
    r.tr.append(r.state, r.addr, r.weight, r.active, r.rps, r.p50, r.p95, r.hc, r.change, r.actions);
    v.rows.set(address, r);
    return r;
  }

  function renderBackend(v, pool, b, rps, win, hc) {
    const r = backendRow(v, pool, b.address);
    r.tr.dataset.state = b.state;
    r.tr.dataset.rps = rps == null ? "" : rps.toFixed(3);
    r.badge.textContent = b.state;
    r.weight.textContent = b.weight;
    r.active.textContent = b.active;
    r.rps.textContent = fmtRate(rps);
    let p50 = quantile(0.5, win), p95 = quantile(0.95, win);
    r.p50.textContent = fmtMs(p50);
    r.p95.textContent = fmtMs(p95);
    if (p50 == null && b.latency_ms != null) r.p50.title = r.p95.title = "mean " + fmtMs(b.latency_ms) + " (no requests in the last " + WINDOW_S + " s)";
    r.drain.textContent = b.state === "draining" ? "Undrain" : "Drain";
    r.drain.setAttribute("aria-label", (b.state === "draining" ? "Undrain " : "Drain ") + b.address);
    r.drain.title = b.state === "draining"
      ? "Cancel the drain: the backend takes new requests again"
      : "No new requests; the backend leaves the pool once its in-flight requests finish";
    if (document.activeElement !== r.weightInput && !r.weightInput.dataset.dirty) r.weightInput.value = b.weight;

    // health-check result: the result whose counter moved last
    const key = pool + "|" + b.address;
    if (hc) {
      const prev = healthSeen.get(key);
      let last = prev ? prev.last : null;
      if (!prev) {  // first sight: the counters alone can't tell which came last; the state can
        if (b.state === "unhealthy" && hc.fail > 0) last = "fail";
        else if (hc.pass > 0) last = "pass";
      } else {
        const moved = Object.keys(hc).filter((res) => hc[res] > (prev.counts[res] || 0));
        if (moved.length === 1) last = moved[0];
        else if (moved.length > 1) last = b.state === "unhealthy" ? "fail" : "pass";  // both within one poll
      }
      healthSeen.set(key, { counts: hc, last });
      const total = Object.entries(hc).map(([res, n]) => n + " " + res).join(", ");
      r.hc.textContent = (last ? "last: " + last : "—") + " (" + total + ")";
      r.hc.dataset.result = last || "";
    } else {
      r.hc.textContent = "not checked";
    }
    const e = lastChange(pool, b.address);
    r.change.replaceChildren();
    if (e) r.change.append(el("time", { datetime: e.time || "", title: e.time || "", text: ago(e.time_ms) }), ": " + e.message);
    else r.change.append("—");
  }

  // ---- charts (inline SVG, drawn by hand) --------------------------------------------------
  function chartFigure(title, kind) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "chart");
    svg.setAttribute("viewBox", "0 0 300 100");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    const axis = document.createElementNS(ns, "line");
    for (const [k, val] of Object.entries({ x1: 0, y1: 99.5, x2: 300, y2: 99.5, class: "axis" })) axis.setAttribute(k, val);
    svg.append(axis);
    const value = el("b");
    const max = el("span", { class: "muted" });
    const keys = kind === "latency"
      ? el("span", {}, el("span", { class: "key k-p50" }), "p50", el("span", { class: "key k-p95" }), "p95")
      : el("span");
    const fig = el("figure", { "data-chart": kind, "data-points": "0", "data-last": "" },
      el("figcaption", {}, el("span", {}, title + " ", value), keys, max), svg);
    return { fig, svg, value, max, lines: new Map(), title };
  }

  function drawChart(c, t, s, lines, fmt) {
    // The x axis spans the history we have (at least 30 s), up to CHART_S.
    const span = Math.min(CHART_S, Math.max(30, s.length ? (t - s[0].t) / 1000 : 0));
    let top = 0;
    for (const p of s) for (const [k] of lines) if (p[k] != null && p[k] > top) top = p[k];
    top = top > 0 ? top * 1.1 : 1;
    for (const [k, cls] of lines) {
      let pl = c.lines.get(k);
      if (!pl) {
        pl = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
        pl.setAttribute("class", cls);
        c.svg.append(pl);
        c.lines.set(k, pl);
      }
      const pts = [];
      for (const p of s) if (p[k] != null) pts.push((300 - (t - p.t) / 1000 * 300 / span).toFixed(1) + "," + (99 - p[k] / top * 94).toFixed(1));
      pl.setAttribute("points", pts.join(" "));
    }
    const last = s.length ? s[s.length - 1][lines[lines.length - 1][0]] : null;
    c.fig.dataset.points = String(s.length);
    c.fig.dataset.last = last == null ? "" : String(last);
    c.max.textContent = "max " + fmt(top / 1.1);
    c.svg.setAttribute("aria-label", c.title + " over the last " + Math.round(span) + " s; now " + fmt(last) + ", max " + fmt(top / 1.1));
    c.fig.dataset.span = String(Math.round(span));
  }

  // ---- actions -----------------------------------------------------------------------------
  function notice(text, error) {
    const n = $("notice");
    n.textContent = text;
    n.classList.toggle("error", !!error);
    n.hidden = false;
  }

  async function act(pool, address, body, done) {
    const headers = { "Content-Type": "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    let r;
    try {
      r = await fetchWithTimeout("/api/v1/pools/" + encodeURIComponent(pool) + "/backends/" + encodeURIComponent(address),
        { method: "PUT", headers, body: JSON.stringify(body) });
    } catch (err) {
      notice("Could not reach ebb-lb: " + err.message, true);
      return;
    }
    if (r.ok) { notice("OK: " + done); return; }
    let msg = "";
    try { msg = (await r.json()).error || ""; } catch (_) { /* not JSON */ }
    if (r.status === 401) notice("401 Unauthorized: " + (msg || "a valid admin token is required") + ". Enter the admin token at the top of the page.", true);
    else notice("Error " + r.status + ": " + (msg || r.statusText), true);
  }

  // ---- token -------------------------------------------------------------------------------
  function initToken() {
    const input = $("token");
    input.value = sessionStorage.getItem(TOKEN_KEY) || "";
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (v) { sessionStorage.setItem(TOKEN_KEY, v); notice("Token saved for this browser tab."); }
      else { sessionStorage.removeItem(TOKEN_KEY); notice("Token cleared."); }
    });
    $("token-clear").addEventListener("click", () => {
      input.value = "";
      sessionStorage.removeItem(TOKEN_KEY);
      notice("Token cleared.");
    });
  }

  // The pure parts, reachable from the browser console and the integration test.
  window.ebbDashboard = Object.freeze({ parseMetrics, quantile });

  initToken();
  poll();
})();
