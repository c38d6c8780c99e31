// Chat fan-out to IRC users versus nc users on one node: one nc sender (this process),
// many receivers (benchmarks/fanout-receivers.mjs, their own process) on one
// `echoplex chat --irc` child process (built dist/). Three receiver kinds: nc users, nc
// users whose lines are padded to the IRC line's length in bytes (so both move the same
// bytes), and registered IRC users (JOIN #lobby). Kinds are interleaved over several
// repetitions, so that the machine's load drifts over all of them alike. Per phase:
// deliveries/s with the sender unpaced, latency (p50/p99) with the sender paced, and the
// server's CPU time per delivery (utime+stime from /proc/<pid>/stat over the phase).
//
//   npx tsx benchmarks/chat-irc-fanout.ts [--receivers 200] [--messages 1000] [--rate 500] [--reps 3]
import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { connectSender, probeLine, type Sender } from "./fanout-sender.js";

const CLI = new URL("../dist/cli/echoplex.cjs", import.meta.url).pathname;
const RECEIVERS_JS = new URL("./fanout-receivers.mjs", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    receivers: { type: "string", default: "200" },
    messages: { type: "string", default: "1000" },
    rate: { type: "string", default: "500" },
    reps: { type: "string", default: "3" },
    "flood-messages": { type: "string", default: "10000" },
    kinds: { type: "string", default: "nc,nc-padded,irc" },
  },
});
const RECEIVERS = Number(values.receivers);
const PACED_MESSAGES = Number(values.messages);
const RATE = Number(values.rate);
const REPS = Number(values.reps);
// The unpaced phase sends more messages: the server's CPU clock ticks every 10 ms.
const FLOOD_MESSAGES = Number(values["flood-messages"]);
// CHAT_FANOUT_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
const PROF_DIR = process.env.CHAT_FANOUT_CPU_PROF;
const CLK_TCK = 100;

type Kind = "nc" | "nc-padded" | "irc";

async function startNode(): Promise<{ proc: ChildProcess; nc: number; irc: number }> {
  const proc = spawn(
    process.execPath,
    [
      ...(PROF_DIR ? ["--cpu-prof", "--cpu-prof-dir", PROF_DIR] : []),
      CLI,
      "chat",
      "127.0.0.1:0",
      "--irc",
      "127.0.0.1:0",
      "--flood-rate",
      "0",
      "--history",
      "0",
    ].concat(["--log-level", "warn"]),
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

/** The server's user and system CPU time in ms (fields 14 and 15 of /proc/<pid>/stat). */
function serverCpuMs(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, sys: (Number(fields[12]) * 1000) / CLK_TCK };
}

type Reply = { ready?: true; done?: true; arrivals?: Float64Array; got?: number; cpuMs?: number };
const receiversProc = fork(RECEIVERS_JS, [], { serialization: "advanced", execArgv: [] });
function ask(msg: object, until: (r: Reply) => boolean, timeoutMs: number): Promise<Reply | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      receiversProc.off("message", onMessage);
      resolve(undefined);
    }, timeoutMs);
    const onMessage = (r: Reply) => {
      if (!until(r)) return;
      clearTimeout(timer);
      receiversProc.off("message", onMessage);
      resolve(r);
    };
    receiversProc.on("message", onMessage);
    receiversProc.send(msg);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();

interface Result {
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  lost: number;
  serverUsPerDelivery: number;
  /** The part of serverUsPerDelivery spent in the kernel (socket writes, mostly). */
  serverSysUs: number;
  /** Share of one core the receivers' process and this (sender) process used over the phase. */
  receiversCpu: number;
  senderCpu: number;
}

async function run(
  node: { proc: ChildProcess; nc: number; irc: number },
  kind: Kind,
  paced: boolean,
  pad: string,
): Promise<Result> {
  const port = kind === "irc" ? node.irc : node.nc;
  const MESSAGES = paced ? PACED_MESSAGES : FLOOD_MESSAGES;
  await ask(
    { cmd: "open", kind: kind === "irc" ? "irc" : "nc", port, count: RECEIVERS, messages: MESSAGES },
    (r) => r.ready === true,
    120_000,
  );
  const sender: Sender = await connectSender(node.nc);
  await sleep(300); // the joins settle
  const sentAt = new Float64Array(MESSAGES);
  const done = ask({ cmd: "start" }, (r) => r.done === true, 120_000 + (MESSAGES / RATE) * 1000);
  const cpu0 = serverCpuMs(node.proc.pid!);
  const own0 = process.cpuUsage();
  const start = wall();
  const BATCH = 10;
  for (let seq = 0; seq < MESSAGES; seq += BATCH) {
    let lines = "";
    const now = wall();
    for (let i = seq; i < Math.min(MESSAGES, seq + BATCH); i++) {
      sentAt[i] = now;
      lines += kind === "nc-padded" ? `m ${i} ${pad}\n` : `m ${i}\n`;
    }
    await sender.write(lines);
    if (paced) {
      const wait = start + ((seq + BATCH) / RATE) * 1000 - wall();
      if (wait > 0) await sleep(wait);
    }
  }
  await done;
  const elapsedMs = wall() - start;
  const cpu1 = serverCpuMs(node.proc.pid!);
  const own = process.cpuUsage(own0);
  const fin = (await ask({ cmd: "finish" }, (r) => r.arrivals !== undefined, 60_000))!;
  sender.close();
  await sleep(300); // the leaves settle before the next phase
  const latencies: number[] = [];
  const arrivals = fin.arrivals!;
  for (let i = 0; i < arrivals.length; i++) {
    if (arrivals[i]! > 0) latencies.push(arrivals[i]! - sentAt[i % MESSAGES]!);
  }
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    deliveriesPerSec: fin.got! / (elapsedMs / 1000),
    p50: at(0.5),
    p99: at(0.99),
    lost: RECEIVERS * MESSAGES - fin.got!,
    serverUsPerDelivery: ((cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) * 1000) / Math.max(1, fin.got!),
    serverSysUs: ((cpu1.sys - cpu0.sys) * 1000) / Math.max(1, fin.got!),
    receiversCpu: fin.cpuMs! / elapsedMs,
    senderCpu: (own.user + own.system) / 1000 / elapsedMs,
  };
}

/** The padding that makes `<sender> m N PAD` as long as `:sender!u@host PRIVMSG #lobby :m N` + CRLF. */
async function probePad(node: {
  nc: number;
  irc: number;
}): Promise<{ pad: string; nc: number; irc: number }> {
  const lens: Record<string, number> = {};
  for (const kind of ["nc", "irc"] as const) {
    lens[kind] = await probeLine(kind === "irc" ? node.irc : node.nc, node.nc, kind);
  }
  const pad = "x".repeat(Math.max(0, lens.irc! - lens.nc! - 1)); // -1: the space before the pad
  return { pad, nc: lens.nc!, irc: lens.irc! };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const node = await startNode();
try {
  const probe = await probePad(node);
  const kinds = values.kinds.split(",") as Kind[];
  const results: Record<Kind, { flood: Result[]; paced: Result[] }> = {
    nc: { flood: [], paced: [] },
    "nc-padded": { flood: [], paced: [] },
    irc: { flood: [], paced: [] },
  };
  for (const kind of kinds) await run(node, kind, false, probe.pad); // warm-up
  for (let rep = 0; rep < REPS; rep++) {
    for (const kind of kinds) {
      results[kind].flood.push(await run(node, kind, false, probe.pad));
      results[kind].paced.push(await run(node, kind, true, probe.pad));
    }
  }
  const f1 = (n: number) => n.toFixed(1);
  const f2 = (n: number) => n.toFixed(2);
  console.log(
    `chat fan-out, one node: ${RECEIVERS} receivers (own process) x 1 nc sender x ${FLOOD_MESSAGES} messages unpaced, ${PACED_MESSAGES} paced at ${RATE} messages/s; ${REPS} interleaved repetitions (node ${process.version}, ${availableParallelism()} cores)`,
  );
  console.log(
    `line bytes as received: nc ${probe.nc}, nc-padded ${probe.nc + probe.pad.length + 1}, irc ${probe.irc}`,
  );
  console.log("");
  console.log(
    "| receivers | rep | deliveries/s (unpaced) | p99 ms (unpaced) | server µs CPU/delivery (unpaced) | of which sys | p50 ms (paced) | p99 ms (paced) | server µs CPU/delivery (paced) | receivers' CPU (unpaced) | sender's CPU (unpaced) | lost |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (let rep = 0; rep < REPS; rep++) {
    for (const kind of kinds) {
      const a = results[kind].flood[rep]!;
      const b = results[kind].paced[rep]!;
      console.log(
        `| ${kind} | ${rep + 1} | ${Math.round(a.deliveriesPerSec).toLocaleString("en")} | ${f1(a.p99)} | ${f2(a.serverUsPerDelivery)} | ${f2(a.serverSysUs)} | ${f1(b.p50)} | ${f1(b.p99)} | ${f2(b.serverUsPerDelivery)} | ${Math.round(a.receiversCpu * 100)} % | ${Math.round(a.senderCpu * 100)} % | ${a.lost + b.lost} |`,
      );
    }
  }
  const med = (kind: Kind, pick: (r: { flood: Result; paced: Result }) => number) =>
    median(results[kind].flood.map((flood, i) => pick({ flood, paced: results[kind].paced[i]! })));
  console.log("");
  console.log("Ratios IRC / nc (medians over the repetitions):");
  console.log("");
  console.log(
    "| against | deliveries/s (unpaced) | p99 (unpaced) | p99 (paced) | server CPU/delivery (unpaced) | server CPU/delivery (paced) |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const base of (["nc", "nc-padded"] as const).filter(
    (k) => kinds.includes(k) && kinds.includes("irc"),
  )) {
    const r = (pick: (x: { flood: Result; paced: Result }) => number) =>
      f2(med("irc", pick) / med(base, pick));
    console.log(
      `| ${base} | ${r((x) => x.flood.deliveriesPerSec)} | ${r((x) => x.flood.p99)} | ${r((x) => x.paced.p99)} | ${r((x) => x.flood.serverUsPerDelivery)} | ${r((x) => x.paced.serverUsPerDelivery)} |`,
    );
  }
} finally {
  node.proc.kill(PROF_DIR ? "SIGINT" : "SIGKILL");
  receiversProc.send({ cmd: "exit" });
}
