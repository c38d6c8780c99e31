// Load client of the doors benchmark (benchmarks/doors.ts), in its own process so that
// its CPU is never counted as the server's. Closed loop: every connection keeps WINDOW
// messages in flight and sends one more per reply. It reads the server's CPU time from
// /proc/SERVER_PID/stat itself, at the very edges of the measured window.
//   node doors-client.mjs load ws|stream|udp TARGET CONNS WINDOW WARMUP_S SECONDS SIZE SERVER_PID CLK_TCK
//   node doors-client.mjs hold ws://… COUNT    (open COUNT idle WebSockets, print HELD, wait for SIGTERM)
// TARGET: ws://host:port/path, unix:/path, tcp:PORT, udp:PORT. Replies are only length-checked
// ("ECHO: " + request), so that the client stays cheap.
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import WebSocket from "ws";

const PREFIX_LEN = "ECHO: ".length;
const UDP_TIMEOUT_MS = 500;
const [mode, kind, target, ...rest] = process.argv.slice(2);

function serverTicks(pid) {
  // Fields after the command name (which may contain spaces): utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function request(size, seq = 0) {
  const buf = Buffer.alloc(size, 0x61);
  buf.write(String(seq).padStart(10, "0"), 0, "latin1");
  return buf;
}

if (mode === "hold") hold(kind, Number(target));
else load();

function load() {
  const [conns, window, warmup, seconds, size, pid, clkTck] = rest.map(Number);
  const stats = { replies: 0, mismatches: 0, errors: 0, lost: 0, late: 0 };
  let measuring = false;
  const closers = [];
  const opened = kind === "ws" ? openWs : kind === "stream" ? openStream : openUdp;
  for (let i = 0; i < conns; i++) closers.push(opened(stats, () => measuring, window, size));
  setTimeout(() => {
    const ticks0 = serverTicks(pid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Errors count over the whole run (a failed connect happens in the warm-up); the rest per window.
    for (const k of Object.keys(stats)) if (k !== "errors") stats[k] = 0;
    measuring = true;
    setTimeout(() => {
      measuring = false;
      const ticks = serverTicks(pid) - ticks0;
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const n = stats.replies;
      const result = {
        ...stats,
        msgsPerSec: Math.round(n / wall),
        serverUsPerMsg: n > 0 ? (ticks * (1e6 / clkTck)) / n : null,
        serverCpuPct: Math.round((ticks * (100 / clkTck)) / wall),
        clientUsPerMsg: n > 0 ? (cpu.user + cpu.system) / n : null,
        clientCpuPct: Math.round((cpu.user + cpu.system) / 10_000 / wall),
      };
      console.log(JSON.stringify(result));
      for (const close of closers) close();
      process.exit(0);
    }, seconds * 1000);
  }, warmup * 1000);
}

function openWs(stats, measuring, window, size) {
  const req = request(size);
  const replyLen = size + PREFIX_LEN;
  const ws = new WebSocket(target, { perMessageDeflate: false });
  ws.on("open", () => {
    for (let i = 0; i < window; i++) ws.send(req, { binary: false });
  });
  ws.on("message", (data) => {
    if (measuring()) {
      stats.replies++;
      if (data.length !== replyLen) stats.mismatches++;
    }
    ws.send(req, { binary: false });
  });
  ws.on("error", () => stats.errors++);
  return () => ws.terminate();
}

function openStream(stats, measuring, window, size) {
  const line = Buffer.concat([request(size), Buffer.from("\n")]);
  const batch = Buffer.concat(Array.from({ length: window }, () => line));
  const replyLen = line.length + PREFIX_LEN;
  const socket = target.startsWith("unix:")
    ? connect({ path: target.slice(5) })
    : connect({ host: "127.0.0.1", port: Number(target.slice(4)), noDelay: true });
  let received = 0;
  socket.on("connect", () => socket.write(batch));
  socket.on("data", (chunk) => {
    let n = 0;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) n++;
    received += chunk.length;
    if (measuring()) {
      stats.replies += n;
      // Every reply is "ECHO: " + request: after a whole reply the byte count is a multiple.
      if (chunk[chunk.length - 1] === 10 && received % replyLen !== 0) stats.mismatches++;
    }
    if (n > 0) socket.write(n <= window ? batch.subarray(0, n * line.length) : line.toString().repeat(n));
  });
  socket.on("error", () => stats.errors++);
  return () => socket.destroy();
}

function openUdp(stats, measuring, window, size) {
  const port = Number(target.slice(4));
  const socket = createSocket("udp4");
  const inFlight = new Map(); // seq -> sent at (ms): a reply after the timeout is late, not resent
  let seq = 0;
  const send = () => {
    const s = seq++;
    inFlight.set(s, performance.now());
    socket.send(request(size, s));
  };
  socket.connect(port, "127.0.0.1", () => {
    for (let i = 0; i < window; i++) send();
  });
  socket.on("message", (msg) => {
    const s = Number(msg.toString("latin1", PREFIX_LEN, PREFIX_LEN + 10));
    if (!inFlight.delete(s)) {
      if (measuring()) stats.late++;
      return;
    }
    if (measuring()) {
      stats.replies++;
      if (msg.length !== size + PREFIX_LEN) stats.mismatches++;
    }
    send();
  });
  socket.on("error", () => stats.errors++);
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [s, at] of inFlight) {
      if (now - at < UDP_TIMEOUT_MS) continue;
      inFlight.delete(s);
      if (measuring()) stats.lost++;
      send();
    }
  }, 100);
  return () => {
    clearInterval(sweep);
    socket.close();
  };
}

function hold(url, count) {
  const sockets = [];
  let open = 0;
  let failed = 0;
  let started = 0;
  const PARALLEL = 200; // handshakes in flight at once, so the accept queue never overflows
  const next = () => {
    if (started >= count) return;
    started++;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on("open", () => {
      open++;
      settle();
    });
    ws.on("error", () => {
      failed++;
      settle();
    });
  };
  const settle = () => {
    if (open + failed === count) console.log(`HELD ${open} FAILED ${failed}`);
    else next();
  };
  for (let i = 0; i < Math.min(PARALLEL, count); i++) next();
  process.on("SIGTERM", () => {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  });
}
