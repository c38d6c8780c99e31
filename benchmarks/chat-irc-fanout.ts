// Chat fan-out to IRC users versus nc users on one node: one nc sender, many receivers
// on one `echoplex chat --irc` child process (built dist/), clients in this process.
// Receivers are nc-protocol sockets in one run and registered IRC sockets (JOIN #lobby)
// in the other. Reports deliveries/s with the sender unpaced, and delivery latency
// (p50/p99/max) with the sender paced.
//
//   npx tsx benchmarks/chat-irc-fanout.ts [--receivers 200] [--messages 1000] [--rate 500]
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const CLI = new URL("../dist/cli/main.js", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    receivers: { type: "string", default: "200" },
    messages: { type: "string", default: "1000" },
    rate: { type: "string", default: "500" },
  },
});
const RECEIVERS = Number(values.receivers);
const MESSAGES = Number(values.messages);
const RATE = Number(values.rate);

type Kind = "nc" | "irc";
const MARKER: Record<Kind, string> = { nc: "<sender> m ", irc: " PRIVMSG #lobby :m " };

async function startNode(): Promise<{ proc: ChildProcess; nc: number; irc: number }> {
  const proc = spawn(
    process.execPath,
    [CLI, "chat", "127.0.0.1:0", "--irc", "127.0.0.1:0", "--flood-rate", "0", "--history", "0"].concat([
      "--log-level",
      "warn",
    ]),
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  return new Promise((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nc = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      const irc = /listening on irc:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (nc && irc) resolve({ proc, nc: Number(nc[1]), irc: Number(irc[1]) });
    });
    proc.once("exit", (code) => reject(new Error(`chat exited with ${code}: ${out}`)));
  });
}

/** A receiver counts the sender's messages and records each one's latency. */
function receive(socket: Socket, kind: Kind, sentAt: Float64Array, latencies: number[]): void {
  const marker = MARKER[kind];
  let rest = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    const now = performance.now();
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const at = text.indexOf(marker, start);
      if (at >= 0 && at < nl) {
        const seq = Number(text.slice(at + marker.length, nl).trim());
        latencies.push(now - sentAt[seq]!);
      }
      start = nl + 1;
    }
    rest = text.slice(start);
  });
}

/** Connects and waits until the user is in #lobby (nc: the join line; IRC: registered and joined). */
async function open(port: number, kind: Kind, n: number): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  if (kind === "irc") socket.write(`NICK r${n}\r\nUSER r${n} 0 * :r\r\nJOIN #lobby\r\n`);
  const ready = kind === "irc" ? " 366 " : "joined";
  await new Promise<void>((resolve) => {
    let seen = "";
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(ready)) {
        socket.off("data", onData);
        resolve();
      }
    };
    socket.on("data", onData);
  });
  return socket;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
}

async function run(node: { nc: number; irc: number }, kind: Kind, paced: boolean): Promise<Result> {
  const sentAt = new Float64Array(MESSAGES);
  const latencies: number[] = [];
  const receivers: Socket[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const socket = await open(kind === "irc" ? node.irc : node.nc, kind, i);
    receive(socket, kind, sentAt, latencies);
    receivers.push(socket);
  }
  const sender = await open(node.nc, "nc", 0);
  sender.write("/nick sender\n");
  await sleep(500); // joins and the rename settle
  const start = performance.now();
  const total = RECEIVERS * MESSAGES;
  const BATCH = 10;
  for (let seq = 0; seq < MESSAGES; seq += BATCH) {
    let lines = "";
    const now = performance.now();
    for (let i = seq; i < Math.min(MESSAGES, seq + BATCH); i++) {
      sentAt[i] = now;
      lines += `m ${i}\n`;
    }
    if (!sender.write(lines)) await new Promise((r) => sender.once("drain", r));
    if (paced) {
      const wait = start + ((seq + BATCH) / RATE) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  const deadline = Date.now() + 60_000;
  while (latencies.length < total && Date.now() < deadline) await sleep(10);
  const elapsed = (performance.now() - start) / 1000;
  for (const r of receivers) r.destroy();
  sender.destroy();
  await sleep(500); // the leaves settle before the next run
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    deliveriesPerSec: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    lost: total - latencies.length,
  };
}

const node = await startNode();
try {
  const rows: string[] = [];
  for (const kind of ["nc", "irc"] as const) {
    await run(node, kind, false); // warm-up
    const flood = await run(node, kind, false);
    const paced = await run(node, kind, true);
    const f = (n: number) => n.toFixed(1);
    rows.push(
      `| ${kind} receivers | ${Math.round(flood.deliveriesPerSec).toLocaleString("en")} | ${f(flood.p99)} | ${f(paced.p50)} | ${f(paced.p99)} | ${f(paced.max)} | ${flood.lost + paced.lost} |`,
    );
  }
  console.log(
    `chat fan-out, one node: ${RECEIVERS} receivers x 1 nc sender x ${MESSAGES} messages; paced run at ${RATE} messages/s (node ${process.version}, ${availableParallelism()} cores)`,
  );
  console.log("");
  console.log(
    "| receivers | deliveries/s (unpaced) | p99 ms (unpaced) | p50 ms (paced) | p99 ms (paced) | max ms (paced) | lost |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  node.proc.kill("SIGKILL");
}
