// The live status page served at `/`: one self-contained HTML document (inline CSS,
// inline script, hand-drawn SVG charts) that polls /api/stats and /api/peers once a
// second. Nothing is fetched from anywhere but the admin endpoint itself.

/** How many peers the page lists; /api/peers without `limit` lists them all. */
const PAGE_PEER_LIMIT = 500;

/** The page's icon, served at /favicon.ico: three lines in the charts' in and out colours. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d2330"/><path d="M8 10h16M8 22h16" stroke="#2f6fde" stroke-width="3.5" stroke-linecap="round"/><path d="M8 16h11" stroke="#e07b24" stroke-width="3.5" stroke-linecap="round"/></svg>
`;

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>echoplex status</title>
<link rel="icon" type="image/svg+xml" href="favicon.ico">
<style>
  :root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --muted:#677085; --line:#e2e5eb; --in:#2f6fde; --out:#e07b24; --ok:#1f9d55; --bad:#d64545; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; flex-wrap:wrap; align-items:baseline; gap:4px 16px; padding:14px 24px; background:#1d2330; color:#fff; }
  header h1 { margin:0; font-size:18px; font-weight:600; }
  header .meta { color:#aab2c5; font-size:13px; flex:1 1 12em; min-width:0; overflow-wrap:anywhere; }
  #state { margin-left:auto; padding:2px 10px; border-radius:10px; font-size:12px; font-weight:600; background:var(--muted); }
  #state.ready { background:var(--ok); } #state.draining, #state.error { background:var(--bad); }
  main { padding:16px 24px 32px; max-width:1400px; }
  .cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(150px, 100%), 1fr)); gap:10px; }
  .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
  .card .label { color:var(--muted); font-size:12px; }
  .card .value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
  h2 { font-size:14px; margin:22px 0 8px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
  .charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(320px, 100%), 1fr)); gap:10px; }
  .chart svg { width:100%; height:90px; display:block; }
  .chart .legend { font-size:12px; color:var(--muted); display:flex; gap:12px; }
  .chart .legend b { font-variant-numeric:tabular-nums; color:var(--ink); font-weight:600; }
  .sw { display:inline-block; width:10px; height:3px; vertical-align:middle; margin-right:4px; }
  /* A table wider than the window scrolls inside its box; the page itself never scrolls sideways. */
  .table-box { overflow-x:auto; background:var(--card); border:1px solid var(--line); border-radius:8px; }
  table { width:100%; border-collapse:collapse; }
  th, td { padding:6px 10px; text-align:left; border-bottom:1px solid var(--line); white-space:nowrap; }
  /* Service metrics and peer details grow with the service: they wrap, one pair never split. */
  td.wrap { white-space:normal; min-width:14em; }
  td.wrap span { white-space:nowrap; }
  th { background:#eef0f4; font-weight:600; font-size:12px; color:var(--muted); }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  tr:last-child td { border-bottom:0; }
  .empty { color:var(--muted); font-style:italic; }
  #note { color:var(--muted); font-size:12px; margin-top:6px; }
  #error { color:var(--bad); font-weight:600; }
  @media (max-width: 600px) {
    header { padding:10px 12px; }
    main { padding:12px 12px 24px; }
    th, td { padding:5px 7px; }
  }
</style>
</head>
<body>
<header><h1>echoplex</h1><span class="meta" id="meta">connecting…</span><span id="state">…</span></header>
<main>
  <div id="error"></div>
  <div class="cards">
    <div class="card"><div class="label">connections</div><div class="value" id="c-active">–</div></div>
    <div class="card"><div class="label">opened since start</div><div class="value" id="c-opened">–</div></div>
    <div class="card"><div class="label">messages in /s</div><div class="value" id="c-min">–</div></div>
    <div class="card"><div class="label">messages out /s</div><div class="value" id="c-mout">–</div></div>
    <div class="card"><div class="label">received /s</div><div class="value" id="c-bin">–</div></div>
    <div class="card"><div class="label">sent /s</div><div class="value" id="c-bout">–</div></div>
  </div>
  <h2>Traffic, last 60 s</h2>
  <div class="charts">
    <div class="card chart"><div class="legend"><span><span class="sw" style="background:var(--in)"></span>connections <b id="l-conn"></b></span></div><svg id="ch-conn" viewBox="0 0 300 90" preserveAspectRatio="none"></svg></div>
    <div class="card chart"><div class="legend"><span><span class="sw" style="background:var(--in)"></span>messages in/s <b id="l-min"></b></span><span><span class="sw" style="background:var(--out)"></span>out/s <b id="l-mout"></b></span></div><svg id="ch-msg" viewBox="0 0 300 90" preserveAspectRatio="none"></svg></div>
    <div class="card chart"><div class="legend"><span><span class="sw" style="background:var(--in)"></span>bytes in/s <b id="l-bin"></b></span><span><span class="sw" style="background:var(--out)"></span>out/s <b id="l-bout"></b></span></div><svg id="ch-bytes" viewBox="0 0 300 90" preserveAspectRatio="none"></svg></div>
  </div>
  <h2>Services</h2>
  <div class="table-box"><table id="services"><thead><tr><th>service</th><th>address</th><th class="num">connections</th><th class="num">opened</th><th class="num">rejected</th><th class="num">errors</th><th class="num">msgs in</th><th class="num">msgs out</th><th class="num">bytes in</th><th class="num">bytes out</th><th>service metrics</th></tr></thead><tbody></tbody></table></div>
  <h2>Peers</h2>
  <div class="table-box"><table id="peers"><thead><tr><th class="num">id</th><th>service</th><th>remote</th><th>connected</th><th class="num">idle</th><th class="num">bytes in</th><th class="num">bytes out</th><th class="num">msgs in</th><th class="num">msgs out</th><th>transport</th><th>details</th></tr></thead><tbody></tbody></table></div>
  <div id="note"></div>
</main>
<script>
"use strict";
var POINTS = 60, LIMIT = ${PAGE_PEER_LIMIT};
var hist = { conn: [], min: [], mout: [], bin: [], bout: [] };
var prev = null;
function $(id) { return document.getElementById(id); }
function fmt(n) { return Math.round(n).toLocaleString("en-US"); }
function bytes(n) {
  var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(1)) + " " + u[i];
}
function ago(ms) {
  var s = Math.floor(ms / 1000);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " m " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " m";
}
function cell(tr, text, cls) {
  var td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
}
function pairs(tr, items) {
  var td = document.createElement("td");
  td.className = "wrap";
  items.forEach(function (text, i) {
    if (i > 0) td.appendChild(document.createTextNode(" "));
    var span = document.createElement("span");
    span.textContent = text;
    td.appendChild(span);
  });
  tr.appendChild(td);
}
function push(arr, v) { arr.push(v); if (arr.length > POINTS) arr.shift(); }
function draw(svg, series) {
  var max = 1;
  series.forEach(function (s) { s.data.forEach(function (v) { if (v > max) max = v; }); });
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var ns = "http://www.w3.org/2000/svg";
  for (var g = 1; g < 4; g++) {
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("x2", "300");
    line.setAttribute("y1", String(g * 22.5)); line.setAttribute("y2", String(g * 22.5));
    line.setAttribute("stroke", "#eef0f4"); line.setAttribute("stroke-width", "1");
    svg.appendChild(line);
  }
  series.forEach(function (s) {
    if (s.data.length === 0) return;
    var step = 300 / (POINTS - 1), x0 = 300 - (s.data.length - 1) * step;
    var pts = s.data.map(function (v, i) { return (x0 + i * step).toFixed(1) + "," + (86 - (v / max) * 80).toFixed(1); });
    var pl = document.createElementNS(ns, "polyline");
    pl.setAttribute("points", pts.join(" "));
    pl.setAttribute("fill", "none"); pl.setAttribute("stroke", s.color); pl.setAttribute("stroke-width", "2");
    pl.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(pl);
  });
  var label = document.createElementNS(ns, "text");
  label.setAttribute("x", "2"); label.setAttribute("y", "10"); label.setAttribute("font-size", "9");
  label.setAttribute("fill", "#677085"); label.textContent = "max " + (series[0].bytes ? bytes(max) : fmt(max));
  svg.appendChild(label);
}
function renderStats(s) {
  var now = Date.parse(s.time), t = s.totals;
  var rate = { min: 0, mout: 0, bin: 0, bout: 0 };
  if (prev !== null && now > prev.time) {
    var dt = (now - prev.time) / 1000;
    rate.min = Math.max(0, (t.messagesIn - prev.t.messagesIn) / dt);
    rate.mout = Math.max(0, (t.messagesOut - prev.t.messagesOut) / dt);
    rate.bin = Math.max(0, (t.bytesIn - prev.t.bytesIn) / dt);
    rate.bout = Math.max(0, (t.bytesOut - prev.t.bytesOut) / dt);
  }
  if (prev === null || now > prev.time) {
    prev = { time: now, t: t };
    push(hist.conn, t.connectionsActive);
    push(hist.min, rate.min); push(hist.mout, rate.mout);
    push(hist.bin, rate.bin); push(hist.bout, rate.bout);
  }
  $("c-active").textContent = fmt(t.connectionsActive);
  $("c-opened").textContent = fmt(t.connectionsOpened);
  $("c-min").textContent = fmt(rate.min); $("c-mout").textContent = fmt(rate.mout);
  $("c-bin").textContent = bytes(rate.bin); $("c-bout").textContent = bytes(rate.bout);
  $("l-conn").textContent = fmt(t.connectionsActive);
  $("l-min").textContent = fmt(rate.min); $("l-mout").textContent = fmt(rate.mout);
  $("l-bin").textContent = bytes(rate.bin); $("l-bout").textContent = bytes(rate.bout);
  draw($("ch-conn"), [{ data: hist.conn, color: "#2f6fde" }]);
  draw($("ch-msg"), [{ data: hist.min, color: "#2f6fde" }, { data: hist.mout, color: "#e07b24" }]);
  draw($("ch-bytes"), [{ data: hist.bin, color: "#2f6fde", bytes: true }, { data: hist.bout, color: "#e07b24" }]);
  var state = $("state");
  state.textContent = s.ready ? "ready" : "draining";
  state.className = s.ready ? "ready" : "draining";
  $("meta").textContent = s.services.map(function (x) { return x.service + " on " + (x.address || "?"); }).join(" · ") + " · up " + ago(s.uptimeSeconds * 1000);
  var body = $("services").tBodies[0], rows = document.createDocumentFragment();
  s.services.forEach(function (x) {
    var tr = document.createElement("tr");
    tr.className = "service-row";
    function sum(o) { return Object.keys(o).reduce(function (a, k) { return a + o[k]; }, 0); }
    cell(tr, x.service + (x.draining ? " (draining)" : "")); cell(tr, x.address || "");
    cell(tr, fmt(x.connectionsActive), "num"); cell(tr, fmt(x.connectionsOpened), "num");
    cell(tr, fmt(sum(x.rejected)), "num"); cell(tr, fmt(sum(x.errors)), "num");
    cell(tr, fmt(x.messagesIn), "num"); cell(tr, fmt(x.messagesOut), "num");
    cell(tr, bytes(x.bytesIn), "num"); cell(tr, bytes(x.bytesOut), "num");
    pairs(tr, Object.keys(x.extra).map(function (k, i, all) { return k + " " + x.extra[k] + (i < all.length - 1 ? "," : ""); }));
    rows.appendChild(tr);
  });
  body.replaceChildren(rows);
}
function renderPeers(p) {
  var body = $("peers").tBodies[0], rows = document.createDocumentFragment(), now = Date.now();
  p.peers.forEach(function (x) {
    var tr = document.createElement("tr");
    tr.className = "peer-row";
    // Under --workers ids restart in each worker: "pid/id" keeps them apart.
    cell(tr, x.worker ? x.worker + "/" + x.id : String(x.id), "num"); cell(tr, x.service);
    cell(tr, (x.remoteAddress.indexOf(":") >= 0 ? "[" + x.remoteAddress + "]" : x.remoteAddress) + ":" + x.remotePort);
    cell(tr, ago(now - Date.parse(x.connectedAt)) + " ago");
    cell(tr, ago(x.idleMs), "num");
    cell(tr, bytes(x.bytesIn), "num"); cell(tr, bytes(x.bytesOut), "num");
    cell(tr, fmt(x.messagesIn), "num"); cell(tr, fmt(x.messagesOut), "num");
    // wss:// is the ws transport with TLS; tls already says it.
    cell(tr, (x.transport || (x.tls ? "tls" : "tcp")) + (x.tls && x.transport !== "tls" ? " + TLS" : ""));
    pairs(tr, x.details ? Object.keys(x.details).map(function (k) { return k + "=" + x.details[k]; }) : []);
    rows.appendChild(tr);
  });
  if (p.peers.length === 0) {
    var tr = document.createElement("tr"), td = document.createElement("td");
    td.colSpan = 11; td.className = "empty"; td.textContent = "no connections";
    tr.appendChild(td); rows.appendChild(tr);
  }
  body.replaceChildren(rows);
  $("note").textContent = p.total > p.peers.length ? "showing " + p.peers.length + " of " + p.total + " connections" : "";
}
function get(path) {
  return fetch(path, { cache: "no-store", credentials: "same-origin" }).then(function (r) {
    if (r.status === 401) throw new Error("unauthorized: open this page as /?token=YOUR_TOKEN");
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  });
}
function tick() {
  Promise.all([get("api/stats"), get("api/peers?limit=" + LIMIT)]).then(function (r) {
    $("error").textContent = "";
    renderStats(r[0]); renderPeers(r[1]);
  }, function (err) {
    $("error").textContent = "cannot reach the server: " + err.message;
    var state = $("state"); state.textContent = "offline"; state.className = "error";
  }).then(function () { setTimeout(tick, 1000); });
}
tick();
</script>
</body>
</html>
`;
