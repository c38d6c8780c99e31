// Server memory per idle connection (issue 19): starts a server child process, opens N
// connections to it, each sends one line and waits for its answer (an echo line, or a
// chat `/nick` reply), then reads the server's VmRSS and, when the server runs with the
// preloaded gc-on-signal.mjs, its heap after a full collection. Prints one JSON line.
//
//   node benchmarks/idle-conns.mjs [--n 10000] [--mode echo|chat|irc] [--snapshot] [-- server argv…]
// irc: chat users through the IRC door, user i in channel #r<i % 100>: 10,000 users at rest
// without the 10,000² join announcements of one nc room (each IRC user registers, joins and
// waits for the end of the channel's NAMES).
// Without a server argv it runs `echoplex MODE` from dist/ (build first). --snapshot sends
// SIGUSR1 before and after (start the server with --heapsnapshot-signal=SIGUSR1).
// --burst M (chat): after the users are at rest, one more user sends M-byte-free lines
// until every user has received --burst deliveries in all, then RSS is read again.
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { parseArgs } from "node:util";

const here = (p) => new URL(p, import.meta.url).pathname;
const split = process.argv.indexOf("--");
const own = split < 0 ? process.argv.slice(2) : process.argv.slice(2, split);
const { values } = parseArgs({
  args: own,
  options: {
    n: { type: "string", default: "10000" },
    mode: { type: "string", default: "echo" },
    snapshot: { type: "boolean", default: false },
    settle: { type: "string", default: "2000" },
    burst: { type: "string", default: "0" },
  },
});
const N = Number(values.n);
const MODE = values.mode;
const BURST = Number(values.burst);
const serverArgv =
  split >= 0
    ? process.argv.slice(split + 1)
    : [
        process.execPath,
        "--expose-gc",
        "--import",
        here("./gc-on-signal.mjs"),
        here("../dist/cli/echoplex.cjs"),
        MODE === "irc" ? "chat" : MODE,
        "127.0.0.1:0",
        ...(MODE === "irc" ? ["--irc", "127.0.0.1:0"] : []),
        "--log-level",
        "warn",
        "--max-connections",
        "20000",
        ...(MODE === "echo" ? [] : ["--history", "0"]),
        // The burst is one sender's: flood control would drop most of it.
        ...(BURST > 0 ? ["--flood-rate", "0"] : []),
      ];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = spawn(serverArgv[0], serverArgv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
let out = "";
let gcLines = [];
// IDLE_CONNS_LOG=FILE keeps the server's output (with --trace-gc, say).
const log = process.env.IDLE_CONNS_LOG;
server.stdout.setEncoding("utf8").on("data", (d) => {
  out += d;
  if (log) appendFileSync(log, d);
});
server.stderr.setEncoding("utf8").on("data", (d) => {
  out += d;
  for (const m of d.matchAll(/DOORBENCH-GC (\{.*\})/g)) gcLines.push(JSON.parse(m[1]));
});
server.on("exit", (code, signal) => {
  if (!done) console.error(`server exited (${code ?? signal}):\n${out.slice(-3000)}`);
});
let done = false;
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]);

// Without the preload a SIGUSR2 would end the server: then memory is read as it is.
const canCollect = serverArgv.some((a) => a.includes("gc-on-signal"));
async function collected() {
  if (!canCollect) return null;
  gcLines = [];
  server.kill("SIGUSR2");
  for (let i = 0; i < 100 && gcLines.length === 0; i++) await sleep(50);
  await sleep(200);
  return gcLines[0] ?? null;
}

async function measure(label) {
  const gc = await collected();
  if (values.snapshot) {
    server.kill("SIGUSR1");
    await sleep(3000);
  }
  if (gc !== null && process.env.IDLE_CONNS_VERBOSE) console.error(label, JSON.stringify(gc));
  return { label, rssKiB: rssKiB(), heapUsed: gc?.heapUsed ?? null, external: gc?.external ?? null };
}

let port = 0;
for (let i = 0; i < 400 && !port; i++) {
  const m =
    MODE === "irc"
      ? /listening on irc:\/\/[^\s]*:(\d+)/.exec(out)
      : (/listening on [^\s]*:(\d+)/.exec(out) ?? /listening on .*?(\d{4,5})/.exec(out));
  if (m) port = Number(m[1]);
  else await sleep(50);
}
if (!port) throw new Error(`server did not start: ${out}`);
await sleep(Number(values.settle));
const before = await measure("before");

const sockets = [];
let received = 0;
function open(i) {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    let got = false;
    let tail = ""; // a reply may be cut between two reads
    s.on("data", (d) => {
      if (MODE === "irc" && !got) tail = (tail + d.toString("latin1")).slice(-600);
      // IRC: at rest once the channel's NAMES list has ended (366); nc and echo: the first line.
      if (!got && (MODE === "irc" ? tail.includes(" 366 ") : d.includes(10))) {
        got = true;
        resolve(s);
      }
      if (got && BURST) for (let k = d.indexOf(10); k >= 0; k = d.indexOf(10, k + 1)) received++;
    });
    s.on("error", reject);
    const hello = {
      chat: `/nick u${i}\n`,
      irc: `NICK u${i}\r\nUSER u${i} 0 * :user ${i}\r\nJOIN #r${i % 100}\r\n`,
      echo: "hello\n",
    };
    s.on("connect", () => s.write(hello[MODE]));
  });
}
const t0 = Date.now();
for (let i = 0; i < N; i += 500) {
  const batch = [];
  for (let k = i; k < Math.min(N, i + 500); k++) batch.push(open(k));
  sockets.push(...(await Promise.all(batch)));
}
const openedMs = Date.now() - t0;
await sleep(Number(values.settle));
const after = await measure("after");
const per = (a, b) => (a === null || b === null ? null : Math.round(((b - a) / N) * 100) / 100);
const result = {
  mode: MODE,
  n: N,
  openedMs,
  rssBeforeKiB: before.rssKiB,
  rssAfterKiB: after.rssKiB,
  rssPerConnB: Math.round(((after.rssKiB - before.rssKiB) * 1024) / N),
  heapPerConnB: per(before.heapUsed, after.heapUsed),
  externalPerConnB: per(before.external, after.external),
};

if (MODE === "chat" && BURST > 0) {
  // One sender; every line goes to every user at rest: BURST deliveries in all.
  const perUser = Math.ceil(BURST / N);
  received = 0;
  const sender = sockets[0];
  const line = `${"x".repeat(40)}\n`;
  const tb = Date.now();
  for (let k = 0; k < perUser; k++) sender.write(line);
  const want = perUser * (N - 1);
  for (let i = 0; i < 1200 && received < want; i++) await sleep(100);
  result.burstDeliveries = received;
  result.burstMs = Date.now() - tb;
  const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]);
  result.burstPeakKiB = peak;
  // RSS each second after the burst (IDLE_CONNS_TRACE=SECONDS): does it come back, and when.
  const trace = [];
  for (let i = 0; i < Number(process.env.IDLE_CONNS_TRACE ?? 0); i++) {
    await sleep(1000);
    trace.push(rssKiB());
  }
  if (trace.length > 0) result.rssEachSecondKiB = trace;
  await sleep(3000);
  const rest = await measure("after burst");
  result.rssAfterBurstKiB = rest.rssKiB;
  result.afterBurstVsBefore = Math.round((rest.rssKiB / after.rssKiB) * 100) / 100;
}

console.log(JSON.stringify(result));
done = true;
for (const s of sockets) s.destroy();
server.kill("SIGTERM");
await sleep(500);
server.kill("SIGKILL");
process.exit(0);
