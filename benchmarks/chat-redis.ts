// Chat fan-out through Redis: one sender, many receivers, on one chat server with
// the in-process transport versus two chat servers sharing a redis-server (sender
// on A, receivers split over A and B). Servers run as `echoplex chat` child
// processes (built dist/), clients in this process. Reports deliveries/s with the
// sender unpaced, and delivery latency (p50/p99/max) with the sender paced.
//
//   npx tsx benchmarks/chat-redis.ts [--receivers 100] [--messages 2000] [--rate 500]
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { type RunningRedis, startRedis } from "../test/helpers/redis.js";

const CLI = new URL("../dist/cli/echoplex.cjs", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    receivers: { type: "string", default: "100" },
    messages: { type: "string", default: "2000" },
    rate: { type: "string", default: "500" },
  },
});
const RECEIVERS = Number(values.receivers);
const MESSAGES = Number(values.messages);
const RATE = Number(values.rate);

interface Node {
  proc: ChildProcess;
  port: number;
}

async function startNode(extra: string[]): Promise<Node> {
  const proc = spawn(
    process.execPath,
    [CLI, "chat", "127.0.0.1:0", "--flood-rate", "0", "--history", "0", "--log-level", "warn", ...extra],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`chat exited with ${code}: ${out}`)));
  });
  return { proc, port };
}

/** A receiver counts the sender's messages and records each one's latency. */
class Receiver {
  received = 0;
  private rest = "";
  constructor(
    readonly socket: Socket,
    sentAt: Float64Array,
    latencies: number[],
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const now = performance.now();
      const text = this.rest + chunk;
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        if (text.startsWith("<sender> m ", start)) {
          const seq = Number(text.slice(start + 11, nl));
          latencies.push(now - sentAt[seq]!);
          this.received++;
        }
        start = nl + 1;
      }
      this.rest = text.slice(start);
    });
  }
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  // Wait for the welcome line: the user is admitted and in the room.
  await new Promise<void>((resolve) => {
    let seen = "";
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes("joined")) {
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

async function run(ports: number[], paced: boolean): Promise<Result> {
  const sentAt = new Float64Array(MESSAGES);
  const latencies: number[] = [];
  const receivers: Receiver[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    receivers.push(new Receiver(await open(ports[i % ports.length]!), sentAt, latencies));
  }
  const sender = await open(ports[0]!);
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
      const due = start + ((seq + BATCH) / RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  const deadline = Date.now() + 60_000;
  while (latencies.length < total && Date.now() < deadline) await sleep(10);
  const elapsed = (performance.now() - start) / 1000;
  for (const r of receivers) r.socket.destroy();
  sender.destroy();
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

function row(name: string, flood: Result, paced: Result): string {
  const f = (n: number) => n.toFixed(1);
  return `| ${name} | ${Math.round(flood.deliveriesPerSec).toLocaleString("en")} | ${f(flood.p99)} | ${f(paced.p50)} | ${f(paced.p99)} | ${f(paced.max)} | ${flood.lost + paced.lost} |`;
}

async function scenario(name: string, nodes: Node[]): Promise<string> {
  const ports = nodes.map((n) => n.port);
  await run(ports, false); // warm-up
  const flood = await run(ports, false);
  const paced = await run(ports, true);
  for (const n of nodes) n.proc.kill("SIGKILL");
  return row(name, flood, paced);
}

let redis: RunningRedis | undefined;
try {
  const rows: string[] = [];
  rows.push(await scenario("1 node, in-process transport", [await startNode([])]));
  redis = await startRedis();
  const shared = ["--redis", redis.url];
  rows.push(
    await scenario("2 nodes through Redis (sender on A, receivers split A/B)", [
      await startNode(shared),
      await startNode(shared),
    ]),
  );
  console.log(
    `chat fan-out: ${RECEIVERS} receivers x 1 sender x ${MESSAGES} messages; paced run at ${RATE} messages/s (node ${process.version}, ${availableParallelism()} cores)`,
  );
  console.log("");
  console.log(
    "| setup | deliveries/s (unpaced) | p99 ms (unpaced) | p50 ms (paced) | p99 ms (paced) | max ms (paced) | lost |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await redis?.stop("SIGKILL");
}
