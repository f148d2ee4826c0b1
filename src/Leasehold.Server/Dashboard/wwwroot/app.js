// Leasehold's dashboard: plain JavaScript, no framework, no build step. It reads the live state from the
// event stream (GET /v1/events?prefix=/&snapshot=true, or the page's ?prefix=; docs/events.md) and the past from GET /v1/history,
// and computes every chart from those (docs/dashboard.md). Views are addressed by the URL's fragment, so
// any view can be linked to: #/, #/pools, #/history?prefix=/lab&owner=ci, #/charts, #/path/lab/phone-7.
"use strict";

(() => {
  const KEY_STORAGE = "leasehold.apiKey";
  const POLL_MS = 3000;
  const RENDER_MS = 250;
  const HISTORY_LIMIT = 10000;
  // The part of the tree the page shows: the whole of it, or the page's ?prefix=/lab (for a key that may read only
  // that part; docs/dashboard.md). A malformed one is ignored.
  const SCOPE = (() => {
    const asked = new URLSearchParams(location.search).get("prefix");
    return asked && asked.startsWith("/") && !asked.includes("//") ? asked.replace(/\/+$/, "") || "/" : "/";
  })();
  const SCOPE_Q = encodeURIComponent(SCOPE);

  // ---------------------------------------------------------------- state

  const state = {
    leases: new Map(),      // id -> lease (as in the API, without token)
    waiters: new Map(),     // id -> waiter
    resources: new Map(),   // declared path -> attributes
    drains: new Map(),      // drained path -> {actor, since} (from the snapshot, then live)
    history: [],            // finished leases, newest first: /v1/history, then released events
    historyIds: new Set(),
    historySince: null,     // the earliest time (ms) from which `history` holds every ended lease
    abandoned: [],          // waiters that left without a grant, seen live: {since, end, paths, reason}
    revision: null,
    connection: "connecting",
    detail: "",
    loaded: false,
  };

  // ---------------------------------------------------------------- small helpers

  /** Builds an element: h("a", {href: "#/"}, "text", child, ...). Strings become text, never HTML. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

  function formatWhen(iso) {
    const d = new Date(iso);
    const sameDay = d.toDateString() === new Date().toDateString();
    return sameDay ? timeOnly.format(d) : dateTime.format(d);
  }

  /** A span of seconds for people: 0.4 s, 12 s, 3 min 5 s, 2 h 4 min, 3 d 2 h. */
  function formatSeconds(s) {
    if (s === null || s === undefined || Number.isNaN(s)) return "—";
    const a = Math.abs(s);
    if (a < 10) return `${(Math.round(a * 10) / 10).toString()} s`;
    if (a < 60) return `${Math.round(a)} s`;
    if (a < 3600) return `${Math.floor(a / 60)} min ${Math.round(a % 60)} s`;
    if (a < 86400) return `${Math.floor(a / 3600)} h ${Math.round((a % 3600) / 60)} min`;
    return `${Math.floor(a / 86400)} d ${Math.round((a % 86400) / 3600)} h`;
  }

  /** A time element with the viewer's local time, its ISO form for machines and a relative hint kept fresh. */
  function timeEl(iso, relative) {
    if (!iso) return h("span", { class: "tag" }, "—");
    const el = h("time", { datetime: iso, title: dateTime.format(new Date(iso)) }, formatWhen(iso));
    if (relative) {
      el.dataset.rel = relative;
      el.dataset.at = iso;
      el.textContent = relativeText(iso, relative);
    }
    return el;
  }

  function relativeText(iso, kind) {
    const secs = (new Date(iso).getTime() - Date.now()) / 1000;
    if (kind === "until") return secs <= 0 ? "expiring" : `in ${formatSeconds(secs)}`;
    return `${formatWhen(iso)} (${formatSeconds(-secs)} ago)`;
  }

  function refreshRelativeTimes() {
    for (const el of document.querySelectorAll("time[data-rel]")) {
      el.textContent = relativeText(el.dataset.at, el.dataset.rel);
    }
  }

  function segments(path) { return path.split("/").filter(s => s.length > 0); }

  /** The dashboard's own link to a path's page. */
  function pathHref(path) { return "#/path/" + segments(path).map(encodeURIComponent).join("/"); }

  /** The API URL of a path under a route: v1/resources + /lab/a%20b. */
  function apiPath(route, path) { return route + segments(path).map(s => "/" + encodeURIComponent(s)).join(""); }

  function parentOf(path) {
    const segs = segments(path);
    return segs.length <= 1 ? "/" : "/" + segs.slice(0, -1).join("/");
  }

  function isUnder(path, prefix) {
    return prefix === "/" || path === prefix || path.startsWith(prefix + "/");
  }

  function pathLink(path, label) { return h("a", { href: pathHref(path), class: "mono" }, label ?? path); }

  function table(headers, rows, emptyText) {
    if (rows.length === 0) return h("p", { class: "notice" }, emptyText);
    return h("div", { class: "table-wrap" },
      h("table", {},
        h("thead", {}, h("tr", {}, headers.map(x => h("th", { scope: "col", class: x.num ? "num" : null }, x.label ?? x)))),
        h("tbody", {}, rows)));
  }

  function attributesEl(attributes) {
    if (attributes === null || attributes === undefined) return h("span", { class: "tag" }, "—");
    if (typeof attributes !== "object" || Array.isArray(attributes)) return h("code", {}, JSON.stringify(attributes));
    return h("span", { class: "attrs" }, Object.entries(attributes).map(([k, v]) =>
      h("span", { class: "attr" }, `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)));
  }

  // ---------------------------------------------------------------- the API, with the viewer's credential

  function apiKey() { return sessionStorage.getItem(KEY_STORAGE); }

  function headers(extra) {
    const result = Object.assign({ Accept: "application/json" }, extra || {});
    const key = apiKey();
    if (key) result.Authorization = "Bearer " + key;
    return result;
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
      this.status = status;
      this.code = problem && problem.code;
    }
  }

  async function problemOf(response) {
    try { return await response.json(); } catch { return null; }
  }

  async function api(url) {
    const response = await fetch(url, { headers: headers(), cache: "no-store" });
    if (!response.ok) {
      const problem = await problemOf(response);
      if (response.status === 401 || response.status === 403) askForKey(problem);
      throw new ApiError(response.status, problem);
    }
    return response.json();
  }

  // ---------------------------------------------------------------- connection status and the key form

  const statusEl = document.getElementById("status");
  const keyForm = document.getElementById("key-form");
  const forgetKey = document.getElementById("forget-key");

  const STATUS_TEXT = {
    connecting: "Connecting…",
    live: "Live",
    polling: "Polling every 3 s",
    offline: "Disconnected, retrying…",
    unauthorized: "Needs an API key",
  };

  function setConnection(connection, detail) {
    state.connection = connection;
    state.detail = detail || "";
    statusEl.dataset.state = connection;
    statusEl.textContent = STATUS_TEXT[connection] + (detail ? `: ${detail}` : "");
    statusEl.title = detail || "";
  }

  function askForKey(problem) {
    setConnection("unauthorized", problem && problem.code ? problem.code : "");
    document.getElementById("key-reason").textContent = (problem && problem.detail
      ? `The server answered: ${problem.detail}`
      : "The server refused the request without a credential.")
      + (problem && problem.code === "forbidden" && SCOPE === "/"
        ? " A key that may read only part of the tree can show that part: open this page as /?prefix=/that/part."
        : "");
    keyForm.hidden = false;
  }

  keyForm.addEventListener("submit", e => {
    e.preventDefault();
    const value = document.getElementById("key-input").value.trim();
    if (!value) return;
    sessionStorage.setItem(KEY_STORAGE, value);
    document.getElementById("key-input").value = "";
    keyForm.hidden = true;
    forgetKey.hidden = false;
    restart();
  });

  forgetKey.addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    forgetKey.hidden = true;
    restart();
  });

  // ---------------------------------------------------------------- applying events

  function addHistory(entry, atFront) {
    if (state.historyIds.has(entry.lease)) return;
    state.historyIds.add(entry.lease);
    if (atFront) state.history.unshift(entry); else state.history.push(entry);
    // Bounded as the server's own history is: a page left open for days keeps no more than it.
    while (state.history.length > HISTORY_LIMIT) {
      const oldest = state.history.pop();
      state.historyIds.delete(oldest.lease);
      state.historySince = Math.max(state.historySince ?? 0, Date.parse(oldest.endedAt) + 1);
    }
  }

  function applySnapshot(data) {
    state.leases.clear();
    state.waiters.clear();
    state.resources.clear();
    for (const lease of data.holders || []) state.leases.set(lease.id, lease);
    for (const waiter of data.queue || []) state.waiters.set(waiter.id, waiter);
    for (const r of data.resources || []) state.resources.set(r.path, r.attributes);
    if (Array.isArray(data.drains)) {
      state.drains.clear();
      for (const d of data.drains) state.drains.set(d.path, { actor: d.actor, since: d.since });
    }
    state.loaded = true;
  }

  /** One event of the stream (docs/events.md); types this page does not know are ignored. */
  function applyEvent(data) {
    if (typeof data.revision === "number") state.revision = data.revision;
    switch (data.type) {
      case "snapshot": applySnapshot(data); break;
      case "reset":
        // Events were missed: the snapshot that follows replaces the state, and the history of ended leases may have
        // a gap, so it is read again (as after polling found leases gone).
        state.historySince = null;
        break;
      case "granted":
      case "renewed":
        state.leases.set(data.lease.id, data.lease);
        break;
      case "released": {
        const lease = data.lease;
        state.leases.delete(lease.id);
        addHistory({
          lease: lease.id, fence: lease.fence, owner: lease.owner, paths: lease.paths,
          acquiredAt: lease.acquiredAt, endedAt: data.at, queued: lease.waited || 0,
          held: typeof data.held === "number" ? data.held : (new Date(data.at) - new Date(lease.acquiredAt)) / 1000,
          reason: data.reason, principal: lease.principal ?? null, endedBy: data.endedBy,
        }, true);
        break;
      }
      case "queued": state.waiters.set(data.waiter.id, data.waiter); break;
      case "dequeued":
        state.waiters.delete(data.waiter.id);
        if (data.reason !== "granted") {
          state.abandoned.push({ since: data.waiter.since, end: data.at, paths: data.waiter.paths, reason: data.reason });
          if (state.abandoned.length > HISTORY_LIMIT) state.abandoned.shift();
        }
        break;
      case "declared": state.resources.set(data.path, data.attributes); break;
      case "removed": state.resources.delete(data.path); break;
      case "drained": state.drains.set(data.path, { actor: data.actor, since: data.at }); break;
      case "undrained": state.drains.delete(data.path); break;
      default: break;
    }
    changed(data);
  }

  // ---------------------------------------------------------------- the event stream (fetch, so it can send the key)

  let generation = 0;
  let lastEventId = null;
  const HEADERS_TIMEOUT_MS = 30000;

  function restart() {
    generation++;
    lastEventId = null;
    state.loaded = false;
    state.history = [];
    state.historyIds.clear();
    state.historySince = null;
    setConnection("connecting");
    connect(generation, 0);
    route();
  }

  async function connect(gen, failures) {
    if (gen !== generation) return;
    const controller = new AbortController();
    const extra = { Accept: "text/event-stream" };
    if (lastEventId !== null) extra["Last-Event-ID"] = lastEventId;
    let response;
    // The server answers a stream's headers at once: a connection that died before they came is given up on.
    const unanswered = setTimeout(() => controller.abort(), HEADERS_TIMEOUT_MS);
    try {
      response = await fetch(`v1/events?prefix=${SCOPE_Q}` + (lastEventId === null ? "&snapshot=true" : ""),
        { headers: headers(extra), cache: "no-store", signal: controller.signal });
    } catch (e) {
      return retry(gen, failures, "the server cannot be reached");
    } finally {
      clearTimeout(unanswered);
    }
    if (response.status === 404) {
      // A server without the event stream: poll the queries instead (docs/dashboard.md).
      return poll(gen);
    }
    if (response.status === 401 || response.status === 403) {
      askForKey(await problemOf(response));
      return;
    }
    if (!response.ok || !response.body) {
      const problem = await problemOf(response);
      return retry(gen, failures, problem && problem.detail ? problem.detail : `HTTP ${response.status}`);
    }
    setConnection("live");
    // A stream that brings nothing, not even the keep-alive the server sends after this many seconds of quiet, for twice
    // that and 5 s more is taken for lost (a connection that died without a reset gives silence only).
    const keepAlive = parseFloat(response.headers.get("Leasehold-Keep-Alive"));
    const silence = { limitMs: keepAlive > 0 ? (keepAlive * 2 + 5) * 1000 : 0, broken: false };
    try {
      await readStream(response.body, gen, controller, silence);
    } catch (e) {
      if (gen !== generation) return;
    }
    if (gen === generation) retry(gen, 0, silence.broken ? "the stream went silent" : "the stream ended");
  }

  function retry(gen, failures, why) {
    if (gen !== generation) return;
    setConnection("offline", why);
    const delay = Math.min(10000, 500 * 2 ** failures);
    setTimeout(() => connect(gen, failures + 1), delay);
  }

  /** Server-Sent Events, parsed as the HTML standard says: fields per line, a blank line ends a message. */
  async function readStream(body, gen, controller, silence) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let data = [];
    let id = null;
    for (;;) {
      const quiet = silence.limitMs > 0
        ? setTimeout(() => { silence.broken = true; controller.abort(); }, silence.limitMs)
        : null;
      let chunk;
      try {
        chunk = await reader.read();
      } finally {
        clearTimeout(quiet);
      }
      const { value, done } = chunk;
      if (done) return;
      if (gen !== generation) { controller.abort(); return; }
      buffer += value;
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer[newline] === "\r" && buffer[newline + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (id !== null) lastEventId = id;
          if (data.length > 0) {
            let parsed = null;
            try { parsed = JSON.parse(data.join("\n")); } catch { parsed = null; }
            if (parsed) {
              applyEvent(parsed);
              if (parsed.type === "cut-off") { controller.abort(); return; }
            }
          }
          data = [];
          id = null;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? "" : line.slice(colon + 1);
        if (v.startsWith(" ")) v = v.slice(1);
        if (field === "data") data.push(v);
        else if (field === "id") id = v;
      }
    }
  }

  /** Without an event stream: the held paths and the declared resources, read again every few seconds. */
  async function poll(gen) {
    if (gen !== generation) return;
    try {
      const listing = await api(`v1/resources?prefix=${SCOPE_Q}&limit=10000`);
      const leases = new Map();
      const waiters = new Map();
      for (const r of listing.resources) {
        for (const l of r.holders) leases.set(l.id, l);
        for (const w of r.queue) waiters.set(w.id, w);
      }
      const gone = [...state.leases.keys()].some(id => !leases.has(id));
      state.leases = leases;
      state.waiters = waiters;
      const declared = await api(`v1/utilization?prefix=${SCOPE_Q}&window=1`);
      const paths = new Set(declared.resources.map(r => r.path));
      for (const p of [...state.resources.keys()]) if (!paths.has(p)) state.resources.delete(p);
      for (const p of paths) {
        if (!state.resources.has(p)) state.resources.set(p, (await api(apiPath("v1/resources", p))).attributes);
      }
      state.loaded = true;
      if (gone) state.historySince = null; // leases ended unseen: read the history again
      setConnection("polling", "this server has no event stream");
      changed(null);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return;
      setConnection("offline", e.message);
    }
    setTimeout(() => poll(gen), POLL_MS);
  }

  // ---------------------------------------------------------------- history for the charts and the path pages

  let historyLoading = null;

  /** Makes sure `state.history` holds every lease that ended since `since` (ISO), as far as the server keeps them. */
  function ensureHistory(since) {
    const sinceMs = Date.parse(since);
    if (state.historySince !== null && state.historySince <= sinceMs) return Promise.resolve();
    if (historyLoading) return historyLoading;
    const gen = generation;
    historyLoading = api(`v1/history?since=${encodeURIComponent(since)}&limit=${HISTORY_LIMIT}&prefix=${SCOPE_Q}`)
      .then(answer => {
        if (gen !== generation) return;
        for (const entry of answer.entries) addHistory(entry, false);
        state.history.sort((a, b) => new Date(b.endedAt) - new Date(a.endedAt));
        state.historySince = sinceMs;
      })
      .finally(() => { historyLoading = null; });
    return historyLoading;
  }

  // ---------------------------------------------------------------- rendering, throttled

  let view = null;
  let renderTimer = null;
  let lastRender = 0;

  function changed(event) {
    if (view && view.onEvent && event) view.onEvent(event);
    if (renderTimer) return;
    const wait = Math.max(0, RENDER_MS - (Date.now() - lastRender));
    renderTimer = setTimeout(() => {
      renderTimer = null;
      lastRender = Date.now();
      if (view) view.update();
    }, wait);
  }

  /** Replaces a region's content, keeping keyboard focus on the element with the same data-key. */
  function replaceContent(region, ...nodes) {
    const focused = document.activeElement;
    const key = focused && region.contains(focused) ? focused.dataset.key : undefined;
    region.replaceChildren(...nodes.flat(Infinity).filter(n => n !== null && n !== undefined && n !== false));
    if (key) {
      const again = region.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
    }
  }

  function heading(text) { return h("h2", {}, text); }

  function loadingNotice() {
    return h("p", { class: "notice" }, state.connection === "unauthorized" ? "Waiting for an API key." : "Loading…");
  }

  // ---------------------------------------------------------------- view: the tree of held paths

  function buildTree() {
    const root = { name: "/", path: "/", children: new Map(), holders: [], queue: [] };
    const node = path => {
      let n = root;
      let p = "";
      for (const seg of segments(path)) {
        p += "/" + seg;
        if (!n.children.has(seg)) n.children.set(seg, { name: seg, path: p, children: new Map(), holders: [], queue: [] });
        n = n.children.get(seg);
      }
      return n;
    };
    for (const lease of state.leases.values()) for (const p of lease.paths) node(p).holders.push(lease);
    for (const waiter of state.waiters.values()) for (const p of waiter.paths) node(p).queue.push(waiter);
    return root;
  }

  function holderEl(lease) {
    return h("span", { class: "holder" + (lease.mode === "shared" ? " shared" : ""), "data-lease": lease.id },
      h("b", {}, lease.owner ?? "(no owner)"),
      h("span", {}, lease.mode + (lease.limit > 1 ? ` (limit ${lease.limit})` : "")),
      h("span", { class: "tag" }, `fence ${lease.fence}`),
      h("span", {}, "since ", timeEl(lease.acquiredAt, "ago")),
      lease.expiresAt ? h("span", {}, "expires ", timeEl(lease.expiresAt, "until")) : h("span", { class: "tag" }, "no expiry"));
  }

  function waiterEl(waiter) {
    return h("span", { class: "waiter", "data-waiter": waiter.id },
      h("b", {}, waiter.owner ?? "(no owner)"),
      h("span", {}, `waits (${waiter.mode})`),
      h("span", {}, "since ", timeEl(waiter.since, "ago")));
  }

  const collapsed = new Set();

  function treeNodeEl(n) {
    const label = h("span", {},
      h("a", { href: pathHref(n.path), class: "node-name mono" + (n.holders.length ? " held" : ""), "data-key": "node:" + n.path }, n.name),
      n.queue.length ? h("span", { class: "tag state-wait" }, ` · ${n.queue.length} waiting`) : null);
    const details = [...n.holders.map(holderEl), ...n.queue.map(waiterEl)];
    const children = [...n.children.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    if (children.length === 0) {
      return h("li", { "data-path": n.path }, h("div", { class: "leaf" }, label, details.length ? h("div", {}, details) : null));
    }
    const d = h("details", { open: !collapsed.has(n.path) },
      h("summary", { "data-key": "toggle:" + n.path }, label),
      details.length ? h("div", {}, details) : null,
      h("ul", {}, children.map(treeNodeEl)));
    d.addEventListener("toggle", () => { if (d.open) collapsed.delete(n.path); else collapsed.add(n.path); });
    return h("li", { "data-path": n.path }, d);
  }

  function locksView() {
    const summary = h("p", { class: "summary" });
    const region = h("div", { id: "tree" });
    return {
      mount(main) {
        main.append(heading("Held paths"), summary, region);
      },
      update() {
        if (!state.loaded) { replaceContent(region, loadingNotice()); return; }
        replaceContent(summary,
          h("span", {}, h("b", { id: "count-leases" }, state.leases.size), " leases"),
          h("span", {}, h("b", { id: "count-waiters" }, state.waiters.size), " waiting"),
          h("span", {}, h("b", {}, state.resources.size), " declared resources"));
        const root = buildTree();
        if (root.children.size === 0 && root.holders.length === 0 && root.queue.length === 0) {
          replaceContent(region, h("p", { class: "notice" }, "Nothing is held and nobody waits."));
          return;
        }
        const top = root.holders.length || root.queue.length ? [root] : [...root.children.values()];
        top.sort((a, b) => a.name < b.name ? -1 : 1);
        replaceContent(region, h("ul", { class: "tree", "aria-label": "Held paths" }, top.map(treeNodeEl)));
      },
    };
  }

  // ---------------------------------------------------------------- pools: declared resources grouped by parent

  function holdersOf(path) {
    const result = [];
    for (const lease of state.leases.values()) {
      for (const p of lease.paths) {
        if (p === path || (lease.lockChildren && isUnder(path, p)) || (lease.lockParents && p.startsWith(path + "/"))) {
          result.push(lease);
          break;
        }
      }
    }
    return result;
  }

  function pools() {
    const byPool = new Map();
    for (const [path, attributes] of state.resources) {
      const pool = parentOf(path);
      if (!byPool.has(pool)) byPool.set(pool, []);
      byPool.get(pool).push({ path, attributes });
    }
    for (const list of byPool.values()) list.sort((a, b) => a.path < b.path ? -1 : 1);
    return [...byPool.entries()].sort((a, b) => a[0] < b[0] ? -1 : 1);
  }

  function poolsView() {
    const region = h("div", { id: "pools" });
    return {
      mount(main) { main.append(heading("Pools and their resources"), region); },
      update() {
        if (!state.loaded) { replaceContent(region, loadingNotice()); return; }
        const all = pools();
        if (all.length === 0) {
          replaceContent(region, h("p", { class: "notice" }, "No resources are declared. Declare some with PUT /v1/resources/{path} or a pool file (docs/pools.md)."));
          return;
        }
        replaceContent(region, ...all.map(([pool, list]) => {
          const rows = list.map(r => {
            const holders = holdersOf(r.path);
            const drained = [...state.drains.keys()].find(d => isUnder(r.path, d));
            const stateCell = holders.length
              ? h("td", { class: "state-held" }, "held by ", holders.map((l, i) => [i ? ", " : "", h("b", {}, l.owner ?? "(no owner)"), ` (fence ${l.fence})`]))
              : h("td", { class: "state-free" }, drained ? "free, drained" : "free");
            return h("tr", { "data-resource": r.path },
              h("td", {}, pathLink(r.path, segments(r.path).pop())),
              stateCell,
              h("td", {}, holders.length ? timeEl(holders[0].acquiredAt, "ago") : ""),
              h("td", {}, attributesEl(r.attributes)));
          });
          const held = list.filter(r => holdersOf(r.path).length > 0).length;
          const waiting = [...state.waiters.values()].filter(w => w.paths.some(p => isUnder(p, pool))).length;
          return h("section", { class: "panel", "data-pool": pool },
            h("h3", {}, pathLink(pool)),
            h("p", { class: "summary" },
              h("span", {}, h("b", {}, `${held} / ${list.length}`), " held"),
              h("span", {}, h("b", {}, list.length ? `${Math.round(100 * held / list.length)} %` : "—"), " in use"),
              h("span", {}, h("b", {}, waiting), " waiting")),
            table(["Resource", "State", "Since", "Attributes"], rows, ""));
        }));
      },
    };
  }

  // ---------------------------------------------------------------- history, filtered by prefix and owner

  function historyRow(e) {
    return h("tr", { "data-lease": e.lease },
      h("td", {}, timeEl(e.endedAt)),
      h("td", {}, e.owner ?? h("span", { class: "tag" }, "(no owner)")),
      h("td", {}, e.paths.map((p, i) => [i ? ", " : "", pathLink(p)])),
      h("td", { class: "num" }, e.fence),
      h("td", { class: "num" }, formatSeconds(e.queued)),
      h("td", { class: "num" }, formatSeconds(e.held)),
      h("td", {}, e.reason + (e.endedBy ? ` by ${e.endedBy}` : "")));
  }

  const HISTORY_HEADERS = ["Ended", "Owner", "Paths", { label: "Fence", num: true }, { label: "Waited", num: true }, { label: "Held", num: true }, "Why it ended"];

  function historyView(params) {
    const prefix = params.get("prefix") || "";
    const owner = params.get("owner") || "";
    const region = h("div", { id: "history" });
    let entries = null;
    let error = null;
    const prefixInput = h("input", { name: "prefix", value: prefix, placeholder: "/lab", autocomplete: "off", id: "history-prefix" });
    const ownerInput = h("input", { name: "owner", value: owner, placeholder: "ci-42", autocomplete: "off", id: "history-owner" });
    const form = h("form", { class: "filters", role: "search" },
      h("label", { for: "history-prefix" }, "Path prefix", prefixInput),
      h("label", { for: "history-owner" }, "Owner", ownerInput),
      h("button", { type: "submit" }, "Filter"));
    form.addEventListener("submit", e => {
      e.preventDefault();
      const q = new URLSearchParams();
      let p = prefixInput.value.trim();
      if (p && !p.startsWith("/")) p = "/" + p;
      if (p) q.set("prefix", p);
      if (ownerInput.value.trim()) q.set("owner", ownerInput.value.trim());
      location.hash = "#/history" + (q.toString() ? "?" + q : "");
    });
    const matches = e => (!prefix || e.paths.some(p => isUnder(p, prefix))) && (!owner || e.owner === owner);
    const seen = new Set();
    return {
      mount(main) {
        main.append(heading("History"), form, region);
        const q = new URLSearchParams({ limit: "500" });
        q.set("prefix", prefix || SCOPE);
        if (owner) q.set("owner", owner);
        api("v1/history?" + q).then(answer => {
          entries = answer.entries;
          for (const e of entries) seen.add(e.lease);
        }).catch(e => { error = e; }).finally(() => view && view.update());
      },
      onEvent(event) {
        if (event.type !== "released" || entries === null) return;
        const e = state.history.find(x => x.lease === event.lease.id);
        if (e && matches(e) && !seen.has(e.lease)) {
          seen.add(e.lease);
          entries.unshift(e);
        }
      },
      update() {
        if (error) { replaceContent(region, h("p", { class: "error" }, error.message)); return; }
        if (entries === null) { replaceContent(region, loadingNotice()); return; }
        const waits = entries.map(e => e.queued);
        const holds = entries.map(e => e.held);
        const avg = xs => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
        replaceContent(region,
          h("p", { class: "summary" },
            h("span", {}, h("b", {}, entries.length), " leases"),
            h("span", {}, "mean wait ", h("b", {}, formatSeconds(avg(waits)))),
            h("span", {}, "mean hold ", h("b", {}, formatSeconds(avg(holds))))),
          table(HISTORY_HEADERS, entries.map(historyRow), "No finished lease matches."));
      },
    };
  }

  // ---------------------------------------------------------------- one path's page (shareable: #/path/lab/phone-7)

  function pathView(path) {
    const region = h("div", { id: "path" });
    let answer = null;
    let recent = null;
    let error = null;
    let loading = false;
    let stale = true;
    const load = () => {
      if (loading) return;
      loading = true;
      stale = false;
      Promise.all([
        api(apiPath("v1/resources", path)),
        api(`v1/history?prefix=${encodeURIComponent(path)}&limit=20`),
      ]).then(([r, hist]) => { answer = r; recent = hist.entries; error = null; })
        .catch(e => { error = e; })
        .finally(() => {
          loading = false;
          if (view) view.update();
          if (stale) load();
        });
    };
    const crumbs = [h("a", { href: "#/" }, "/")];
    let p = "";
    segments(path).forEach((s, i, all) => {
      p += "/" + s;
      crumbs.push(i ? "/" : "", i === all.length - 1 ? h("b", {}, s) : h("a", { href: pathHref(p) }, s));
    });
    return {
      mount(main) {
        main.append(h("h2", { class: "breadcrumb mono" }, crumbs), region);
        load();
      },
      onEvent(event) {
        const touched = [event.lease, event.waiter].filter(Boolean).flatMap(x => x.paths || []).concat(event.path ? [event.path] : []);
        if (event.type === "snapshot" || touched.some(t => isUnder(t, path) || isUnder(path, t))) {
          if (loading) stale = true; else load();
        }
      },
      update() {
        if (error) { replaceContent(region, h("p", { class: "error" }, error.message)); return; }
        if (answer === null) { replaceContent(region, loadingNotice()); return; }
        const leaseRows = list => list.map(l => h("tr", { "data-lease": l.id },
          h("td", {}, l.owner ?? "(no owner)"), h("td", {}, l.mode), h("td", { class: "num" }, l.fence),
          h("td", {}, l.paths.map((x, i) => [i ? ", " : "", pathLink(x)])),
          h("td", {}, timeEl(l.acquiredAt, "ago")), h("td", {}, l.expiresAt ? timeEl(l.expiresAt, "until") : "never")));
        const waiterRows = list => list.map(w => h("tr", { "data-waiter": w.id },
          h("td", {}, w.owner ?? "(no owner)"), h("td", {}, w.mode),
          h("td", {}, w.paths.map((x, i) => [i ? ", " : "", pathLink(x)])), h("td", {}, timeEl(w.since, "ago"))));
        const leaseHeaders = ["Owner", "Mode", { label: "Fence", num: true }, "Paths", "Since", "Expires"];
        const waiterHeaders = ["Owner", "Mode", "Paths", "Waiting since"];
        replaceContent(region,
          answer.drained ? h("p", { class: "panel state-wait" }, `Drained for maintenance at ${answer.drained.path} by ${answer.drained.actor}: nothing is granted here until it is undrained.`) : null,
          answer.attributes !== null && answer.attributes !== undefined
            ? h("section", {}, h("h3", {}, "Declared resource, in pool ", pathLink(parentOf(path))), attributesEl(answer.attributes)) : null,
          h("h3", {}, "Holders"),
          table(leaseHeaders, leaseRows(answer.holders), "Nobody holds this path."),
          h("h3", {}, "Queue"),
          table(waiterHeaders, waiterRows(answer.queue), "Nobody waits for this path."),
          answer.blockedBy && answer.blockedBy.length ? [h("h3", {}, "Blocked by leases above or below"), table(leaseHeaders, leaseRows(answer.blockedBy), "")] : null,
          answer.queuedAhead && answer.queuedAhead.length ? [h("h3", {}, "Queued above or below, ahead of a new request"), table(waiterHeaders, waiterRows(answer.queuedAhead), "")] : null,
          h("h3", {}, "Recently ended here"),
          table(HISTORY_HEADERS, (recent || []).map(historyRow), "No finished lease on this path is kept."),
          h("p", { class: "notice" }, "Link to this page: ", h("a", { href: location.href }, location.href)));
      },
    };
  }

  // ---------------------------------------------------------------- charts, computed from history + state + live events

  const WINDOWS = [[900, "15 minutes"], [3600, "1 hour"], [6 * 3600, "6 hours"], [86400, "24 hours"]];
  const BUCKETS = 120;
  const HOLD_BINS = [[1, "< 1 s"], [10, "1–10 s"], [60, "10 s–1 min"], [600, "1–10 min"], [3600, "10 min–1 h"], [Infinity, "≥ 1 h"]];
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

  const t = iso => new Date(iso).getTime() / 1000;

  /** Adds the overlap of [a, b) with each bucket to sums (seconds). */
  function spread(sums, from, step, a, b, weight) {
    if (b <= from || a >= from + step * sums.length) return;
    const first = Math.max(0, Math.floor((a - from) / step));
    const last = Math.min(sums.length - 1, Math.floor((b - from) / step));
    for (let i = first; i <= last; i++) {
      const lo = Math.max(a, from + i * step);
      const hi = Math.min(b, from + (i + 1) * step);
      if (hi > lo) sums[i] += (hi - lo) * (weight ?? 1);
    }
  }

  /** Every series the charts show, for a window ending now. */
  function chartData(windowSecs) {
    const now = Date.now() / 1000;
    const from = now - windowSecs;
    const step = windowSecs / BUCKETS;
    const xs = Array.from({ length: BUCKETS }, (_, i) => from + (i + 0.5) * step);
    const poolList = pools();
    const poolOf = path => {
      const pool = parentOf(path);
      return state.resources.has(path) ? pool : null;
    };
    const ended = state.history.filter(e => t(e.endedAt) >= from);

    // Utilization: seconds held of each pool's resources per bucket, over the bucket's seconds times the pool's size.
    const utilization = poolList.map(([pool, list]) => {
      const sums = new Array(BUCKETS).fill(0);
      const add = (paths, a, b) => {
        for (const p of paths) if (poolOf(p) === pool) spread(sums, from, step, a, b);
      };
      for (const e of ended) add(e.paths, t(e.acquiredAt), t(e.endedAt));
      for (const l of state.leases.values()) add(l.paths, t(l.acquiredAt), now);
      return { pool, values: sums.map(s => 100 * s / (step * list.length)) };
    });

    // Queue length: requests waiting, averaged over each bucket. Granted ones from history and current leases,
    // the current queue, and those seen leaving without a grant while this page was open.
    const queue = new Array(BUCKETS).fill(0);
    const waits = [];
    for (const e of ended) {
      if (e.queued > 0) spread(queue, from, step, t(e.acquiredAt) - e.queued, t(e.acquiredAt));
      waits.push([t(e.acquiredAt), e.queued]);
    }
    for (const l of state.leases.values()) {
      if (l.waited > 0) spread(queue, from, step, t(l.acquiredAt) - l.waited, t(l.acquiredAt));
      waits.push([t(l.acquiredAt), l.waited || 0]);
    }
    for (const w of state.waiters.values()) spread(queue, from, step, t(w.since), now);
    for (const a of state.abandoned) spread(queue, from, step, t(a.since), t(a.end));
    const queueValues = queue.map(s => s / step);

    // Wait time: the mean and the longest wait of the grants in each bucket (none: a gap).
    const waitSum = new Array(BUCKETS).fill(0);
    const waitCount = new Array(BUCKETS).fill(0);
    const waitMax = new Array(BUCKETS).fill(null);
    for (const [at, secs] of waits) {
      const i = Math.floor((at - from) / step);
      if (i < 0 || i >= BUCKETS) continue;
      waitSum[i] += secs;
      waitCount[i]++;
      waitMax[i] = Math.max(waitMax[i] ?? 0, secs);
    }
    const waitMean = waitSum.map((s, i) => waitCount[i] ? s / waitCount[i] : null);

    // Hold-time distribution per pool: the leases that ended in the window, by how long they were held.
    const holds = poolList.map(([pool]) => {
      const counts = new Array(HOLD_BINS.length).fill(0);
      for (const e of ended) {
        if (!e.paths.some(p => poolOf(p) === pool)) continue;
        counts[HOLD_BINS.findIndex(([limit]) => e.held < limit)]++;
      }
      return { pool, counts };
    });
    return { xs, utilization, queue: queueValues, waitMean, waitMax, holds, grants: waits.filter(([at]) => at >= from).length, ended: ended.length };
  }

  function chartsAvailable() { return typeof window.uPlot === "function"; }

  function chartsView(params) {
    const windowSecs = Number(params.get("window")) || 3600;
    const select = h("select", { id: "chart-window", "aria-label": "Time window" },
      WINDOWS.map(([secs, label]) => h("option", { value: secs, selected: secs === windowSecs }, `Last ${label}`)));
    select.addEventListener("change", () => { location.hash = `#/charts?window=${select.value}`; });
    const region = h("div", { class: "charts", id: "charts" });
    const note = h("p", { class: "notice" });
    const plots = new Map(); // name -> {plot, key}
    let loaded = false;
    let error = null;

    function figure(name, caption, text) {
      let fig = region.querySelector(`figure[data-chart="${CSS.escape(name)}"]`);
      if (!fig) {
        fig = h("figure", { class: "chart", "data-chart": name }, h("figcaption", {}, caption), h("div", { class: "plot" }), h("p", {}));
        region.append(fig);
      }
      fig.querySelector("figcaption").textContent = caption;
      fig.querySelector("p").textContent = text;
      return fig;
    }

    /** Creates or updates a uPlot chart; a chart whose series changed is made anew. */
    function plot(name, caption, text, opts, data, points) {
      const fig = figure(name, caption, text);
      fig.dataset.points = String(points);
      const host = fig.querySelector(".plot");
      const key = JSON.stringify(opts.series.map(s => s.label));
      const width = Math.max(240, host.clientWidth || fig.clientWidth || 320);
      let entry = plots.get(name);
      if (entry && entry.key !== key) { entry.plot.destroy(); plots.delete(name); entry = null; }
      if (!entry) {
        host.replaceChildren();
        entry = { plot: new window.uPlot(Object.assign({ width, height: 220 }, opts), data, host), key };
        plots.set(name, entry);
      } else {
        if (Math.abs(entry.plot.width - width) > 2) entry.plot.setSize({ width, height: 220 });
        entry.plot.setData(data);
      }
    }

    function timeSeries(values, label, color, extra) {
      return Object.assign({ label, stroke: color, width: 2, spanGaps: false, points: { show: false } }, extra || {});
    }

    function draw() {
      if (!chartsAvailable()) {
        note.textContent = "Charts are not available: this server was built without its charting library (npm was missing or failed at build time). Everything else on this page works.";
        return;
      }
      if (error) { note.textContent = error.message; return; }
      if (!loaded || !state.loaded) { note.textContent = "Loading…"; return; }
      const d = chartData(windowSecs);
      note.textContent = `${d.ended} leases ended and ${d.grants} were granted in the window; ${BUCKETS} steps of ${formatSeconds(windowSecs / BUCKETS)}.`;
      const axesTime = [{}, { size: 50 }];
      if (d.utilization.length === 0) {
        figure("utilization", "Pool utilization", "No resources are declared, so there is no pool to chart.").dataset.points = "0";
      } else {
        plot("utilization", "Pool utilization (% of its resources held)",
          d.utilization.map(u => `${u.pool}: ${Math.round(u.values[u.values.length - 1])} % in the last step`).join("; "),
          { scales: { y: { range: [0, 100] } }, axes: [{}, { size: 60, values: (u, vals) => vals.map(v => v + " %") }],
            series: [{}, ...d.utilization.map((u, i) => timeSeries(u.values, u.pool, COLORS[i % COLORS.length], { paths: window.uPlot.paths.stepped({ align: 1 }), value: (p, v) => v === null ? "—" : v.toFixed(1) + " %" }))] },
          [d.xs, ...d.utilization.map(u => u.values)], d.utilization.reduce((n, u) => n + u.values.filter(v => v > 0).length, 0));
      }
      plot("queue", "Queue length (requests waiting)",
        `${state.waiters.size} waiting now; at most ${Math.max(0, ...d.queue).toFixed(1)} on average in a step.`,
        { axes: axesTime, scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
          series: [{}, timeSeries(d.queue, "waiting", COLORS[4], { fill: "rgba(255,127,14,0.15)", value: (p, v) => v === null ? "—" : v.toFixed(2) })] },
        [d.xs, d.queue], d.queue.filter(v => v > 0).length);
      const waited = d.waitMean.filter(v => v !== null).length;
      plot("wait", "Wait time before a grant (seconds)",
        waited ? `Longest wait in the window: ${formatSeconds(Math.max(...d.waitMax.filter(v => v !== null)))}.` : "No grant in the window.",
        { axes: axesTime, scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
          series: [{}, timeSeries(d.waitMean, "mean", COLORS[0], { points: { show: true, size: 5 }, value: (p, v) => formatSeconds(v) }),
            timeSeries(d.waitMax, "longest", COLORS[1], { points: { show: true, size: 5 }, width: 1, dash: [4, 4], value: (p, v) => formatSeconds(v) })] },
        [d.xs, d.waitMean, d.waitMax], waited);
      for (const [i, hold] of d.holds.entries()) {
        const total = hold.counts.reduce((a, b) => a + b, 0);
        plot("holds:" + hold.pool, `Hold times in ${hold.pool} (leases ended in the window)`,
          total ? HOLD_BINS.map(([, label], j) => `${label}: ${hold.counts[j]}`).join(", ") : "No lease on this pool ended in the window.",
          { scales: { x: { time: false, range: [-0.5, HOLD_BINS.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
            axes: [{ values: (u, vals) => vals.map(v => Number.isInteger(v) && HOLD_BINS[v] ? HOLD_BINS[v][1] : ""), splits: () => HOLD_BINS.map((_, j) => j), grid: { show: false } }, { size: 40 }],
            legend: { show: false },
            series: [{}, { label: "leases", stroke: COLORS[i % COLORS.length], fill: COLORS[i % COLORS.length] + "99", paths: window.uPlot.paths.bars({ size: [0.7, 80] }), points: { show: false } }] },
          [HOLD_BINS.map((_, j) => j), hold.counts], total);
      }
      // Pools that went away: their charts go too.
      for (const fig of region.querySelectorAll("figure[data-chart^='holds:']")) {
        const pool = fig.dataset.chart.slice("holds:".length);
        if (!d.holds.some(x => x.pool === pool)) {
          plots.get(fig.dataset.chart)?.plot.destroy();
          plots.delete(fig.dataset.chart);
          fig.remove();
        }
      }
    }

    return {
      mount(main) {
        main.append(heading("Charts"), h("form", { class: "filters" }, h("label", {}, "Window", select)), note, region);
        if (!chartsAvailable()) { draw(); return; }
        const since = new Date(Date.now() - windowSecs * 1000).toISOString();
        ensureHistory(since).then(() => { loaded = true; }).catch(e => { error = e; }).finally(() => view && view.update());
      },
      update() {
        if (state.historySince === null && loaded) {
          ensureHistory(new Date(Date.now() - windowSecs * 1000).toISOString()).finally(draw);
          return;
        }
        draw();
      },
      unmount() { for (const entry of plots.values()) entry.plot.destroy(); plots.clear(); },
    };
  }

  // ---------------------------------------------------------------- routing by the URL's fragment

  const main = document.getElementById("main");

  function route() {
    const hash = location.hash || "#/";
    if (!hash.startsWith("#/")) return;
    const [pathPart, query] = hash.slice(1).split("?", 2);
    const params = new URLSearchParams(query || "");
    let name;
    let next;
    if (pathPart.startsWith("/path/") || pathPart === "/path") {
      const segs = pathPart.slice("/path".length).split("/").filter(Boolean).map(s => { try { return decodeURIComponent(s); } catch { return s; } });
      const path = "/" + segs.join("/");
      name = "locks";
      next = pathView(path);
      document.title = `${path} · Leasehold`;
    } else {
      name = { "/": "locks", "/pools": "pools", "/history": "history", "/charts": "charts" }[pathPart] || "locks";
      next = { locks: locksView, pools: poolsView, history: historyView, charts: chartsView }[name](params);
      document.title = `${{ locks: "Locks", pools: "Pools", history: "History", charts: "Charts" }[name]} · Leasehold`;
    }
    for (const a of document.querySelectorAll("nav a")) {
      if (a.dataset.nav === name && !pathPart.startsWith("/path")) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (view && view.unmount) view.unmount();
    view = next;
    main.replaceChildren();
    view.mount(main);
    view.update();
  }

  window.addEventListener("hashchange", () => {
    route();
    main.focus({ preventScroll: false });
  });
  window.addEventListener("resize", () => { if (view) changed(null); });
  setInterval(refreshRelativeTimes, 1000);

  document.getElementById("zone").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
  document.getElementById("chart-credit").hidden = !chartsAvailable();
  forgetKey.hidden = !apiKey();
  restart();
})();
