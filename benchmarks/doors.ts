// Every door against its reference, side by side in one run: echoplex echo on ws://,
// unix: and TCP and udp://, a bare `ws` echo server and a bare `node:dgram` one
// (benchmarks/baselines/). Each cell is a fresh server child process driven by a load
// client in its own process (doors-client.mjs), repeated interleaved; it prints the
// medians of msgs/s and of the server's CPU time per message, and the ratios to the
// reference of the same transport. Then the server memory per idle WebSocket.
//
//   npm run bench:doors -- [--seconds 5] [--warmup 2] [--repeats 3] [--idle 10000] [--no-pin]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const here = (p: string) => new URL(p, import.meta.url).pathname;
const CLI = here("../dist/cli/echoplex.cjs");
const CLIENT = here("./doors-client.mjs");
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    repeats: { type: "string", default: "3" },
    size: { type: "string", default: "64" },
    idle: { type: "string", default: "10000" },
    "no-pin": { type: "boolean", default: false },
    "skip-memory": { type: "boolean", default: false },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const REPEATS = Number(values.repeats);
const SIZE = Number(values.size);
const IDLE = Number(values.idle);
// Server on core 1, client on core 0, as benchmarks/run.sh does (when taskset exists).
const PIN = !values["no-pin"] && hasTaskset();
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const SOCK = join(tmpdir(), `echoplex-doorbench-${process.pid}.sock`);
const ECHOPLEX = [CLI, "echo", "--log-level", "warn", "--max-connections", "19990"];

interface Cell {
  name: string;
  kind: "ws" | "stream" | "udp";
  conns: number;
  server: string[];
  /** The client's target, from the address the server printed. */
  target: (listening: string) => string;
}

const wsTarget = (l: string) => `ws://127.0.0.1:${port(l)}/`;
const CELLS: Cell[] = [
  {
    name: "echoplex ws",
    kind: "ws",
    conns: 50,
    server: [...ECHOPLEX, "ws://127.0.0.1:0/"],
    target: wsTarget,
  },
  { name: "bare ws", kind: "ws", conns: 50, server: [here("./baselines/ws-echo.mjs")], target: wsTarget },
  {
    name: "echoplex unix",
    kind: "stream",
    conns: 50,
    server: [...ECHOPLEX, `unix:${SOCK}`],
    target: () => `unix:${SOCK}`,
  },
  {
    name: "echoplex tcp",
    kind: "stream",
    conns: 50,
    server: [...ECHOPLEX, "127.0.0.1:0"],
    target: (l) => `tcp:${port(l)}`,
  },
  {
    name: "echoplex udp",
    kind: "udp",
    conns: 16,
    server: [...ECHOPLEX, "udp://127.0.0.1:0"],
    target: (l) => `udp:${port(l)}`,
  },
  {
    name: "bare dgram",
    kind: "udp",
    conns: 16,
    server: [here("./baselines/dgram-echo.mjs")],
    target: (l) => `udp:${port(l)}`,
  },
];
const WINDOW = 16;

function port(line: string): number {
  const m = /:(\d+)\/?(?:\s|$)/.exec(line);
  if (!m) throw new Error(`no port in ${JSON.stringify(line)}`);
  return Number(m[1]);
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function node(core: number, args: string[], nodeFlags: string[] = []): ChildProcess {
  const argv = [...nodeFlags, ...args];
  const [cmd, full] = PIN
    ? ["taskset", ["-c", String(core), process.execPath, ...argv]]
    : [process.execPath, argv];
  return spawn(cmd, full as string[], { stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves with the first stdout line matching `re`; rejects on exit or after `ms`. */
function waitFor(proc: ChildProcess, stream: "stdout" | "stderr", re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${re}: ${seen.slice(-500)}`)), ms);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const line = seen.split("\n").find((l) => re.test(l));
      if (line !== undefined) done(null, line);
    };
    const onExit = (code: number | null) =>
      done(new Error(`exited with ${code} before ${re}: ${seen.slice(-500)}`));
    const done = (err: Error | null, line = "") => {
      clearTimeout(timer);
      proc[stream]!.off("data", onData);
      proc.off("exit", onExit);
      if (err) reject(err);
      else resolve(line);
    };
    proc[stream]!.on("data", onData);
    proc.once("exit", onExit);
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Sample {
  msgsPerSec: number;
  serverUsPerMsg: number;
  serverCpuPct: number;
  clientUsPerMsg: number;
  clientCpuPct: number;
  mismatches: number;
  errors: number;
  lost: number;
  late: number;
}

async function runCell(cell: Cell): Promise<Sample> {
  const server = node(1, cell.server);
  server.stderr!.on("data", (d: Buffer) => process.stderr.write(`[${cell.name}] ${d}`));
  try {
    const listening = await waitFor(server, "stdout", /listening on/, 20_000);
    const clientArgs = [CLIENT, "load", cell.kind, cell.target(listening), cell.conns, WINDOW];
    const client = node(0, [...clientArgs, WARMUP, SECONDS, SIZE, server.pid, CLK_TCK].map(String));
    client.stderr!.on("data", (d: Buffer) => process.stderr.write(`[client ${cell.name}] ${d}`));
    const line = await waitFor(client, "stdout", /^\{/, (WARMUP + SECONDS + 30) * 1000);
    await stop(client);
    const sample = JSON.parse(line) as Sample;
    if (sample.msgsPerSec === 0 || sample.errors > 0)
      throw new Error(`${cell.name}: no traffic or errors: ${line}`);
    return sample;
  } finally {
    await stop(server);
    rmSync(SOCK, { force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function vmRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1]);
}

interface MemUsage {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** A full GC in the server (through the preloaded gc-on-signal.mjs), then its RSS and heap. */
async function settledMemory(server: ChildProcess): Promise<{ rssKb: number; mem: MemUsage }> {
  const reply = waitFor(server, "stderr", /^DOORBENCH-GC /, 20_000);
  server.kill("SIGUSR2");
  const mem = JSON.parse((await reply).slice("DOORBENCH-GC ".length)) as MemUsage;
  return { rssKb: vmRssKb(server.pid!), mem };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function idleMemory(name: string, serverArgs: string[]): Promise<string> {
  const server = node(1, serverArgs, ["--expose-gc", "--import", here("./gc-on-signal.mjs")]);
  const holders: ChildProcess[] = [];
  try {
    const url = wsTarget(await waitFor(server, "stdout", /listening on/, 20_000));
    await sleep(1000);
    const before = await settledMemory(server);
    // Two holder processes: each stays well under the 20,000 file limit.
    const per = [Math.ceil(IDLE / 2), Math.floor(IDLE / 2)];
    const held = per.map((n) => {
      const h = spawn(process.execPath, [CLIENT, "hold", url, String(n)], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      holders.push(h);
      return waitFor(h, "stdout", /^HELD/, 180_000);
    });
    const lines = await Promise.all(held);
    const open = lines.reduce((sum, l) => sum + Number(/HELD (\d+)/.exec(l)![1]), 0);
    await sleep(2000);
    const after = await settledMemory(server);
    const perConn = (a: number, b: number) => fmt((a - b) / open / 1024, 2);
    return (
      `| ${name} | ${fmt(open)} | ${fmt(before.rssKb)} KB | ${fmt(after.rssKb)} KB | ` +
      `**${fmt((after.rssKb - before.rssKb) / open, 2)} KB** | ${perConn(after.mem.heapUsed, before.mem.heapUsed)} KB | ` +
      `${perConn(after.mem.external, before.mem.external)} KB |`
    );
  } finally {
    for (const h of holders) await stop(h);
    await stop(server);
  }
}

async function main(): Promise<void> {
  const started = new Date();
  console.log(
    `date: ${started.toISOString()}  node ${process.version}  ${cpus().length} cores, ${cpus()[0]?.model}`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `${SECONDS} s per cell after ${WARMUP} s warm-up, ${REPEATS} reps interleaved, ${SIZE}-byte messages, ` +
      `window ${WINDOW}; ${PIN ? "server on core 1, client on core 0" : "not pinned"}\n`,
  );
  const samples = new Map<string, Sample[]>(CELLS.map((c) => [c.name, []]));
  for (let rep = 1; rep <= REPEATS; rep++) {
    for (const cell of CELLS) {
      const s = await runCell(cell);
      samples.get(cell.name)!.push(s);
      console.error(
        `rep ${rep} ${cell.name}: ${fmt(s.msgsPerSec)} msgs/s, ${s.serverUsPerMsg?.toFixed(2)} µs/msg`,
      );
    }
  }
  const med = (name: string, k: keyof Sample) => median(samples.get(name)!.map((s) => s[k]));
  console.log(
    "| server | conns × window | msgs/s (each rep) | msgs/s median | server µs/msg | server CPU | client µs/msg | client CPU | mismatches / errors / lost / late |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const c of CELLS) {
    const ss = samples.get(c.name)!;
    const sum = (k: keyof Sample) => ss.reduce((a, s) => a + s[k], 0);
    console.log(
      `| ${c.name} | ${c.conns} × ${WINDOW} | ${ss.map((s) => fmt(s.msgsPerSec)).join(" ")} | ${fmt(med(c.name, "msgsPerSec"))} | ` +
        `${med(c.name, "serverUsPerMsg").toFixed(2)} | ${med(c.name, "serverCpuPct")} % | ${med(c.name, "clientUsPerMsg").toFixed(2)} | ` +
        `${med(c.name, "clientCpuPct")} % | ${sum("mismatches")} / ${sum("errors")} / ${sum("lost")} / ${sum("late")} |`,
    );
  }
  console.log(
    "\n| target | msgs/s ratio (medians) | per-rep ratios | server CPU/msg ratio (lower is cheaper) | met (msgs/s) |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  const ratio = (a: string, b: string, want: number, label: string) => {
    const r = med(a, "msgsPerSec") / med(b, "msgsPerSec");
    const reps = samples.get(a)!.map((s, i) => (s.msgsPerSec / samples.get(b)![i]!.msgsPerSec).toFixed(2));
    const cpu = med(a, "serverUsPerMsg") / med(b, "serverUsPerMsg");
    console.log(
      `| ${label} | ${r.toFixed(2)} | ${reps.join(" ")} | ${cpu.toFixed(2)} | ${r >= want ? "yes" : "**no**"} |`,
    );
  };
  ratio("echoplex ws", "bare ws", 0.9, "echoplex ws / bare ws ≥ 0.9");
  ratio("echoplex unix", "echoplex tcp", 1, "echoplex unix / echoplex tcp ≥ 1");
  ratio("echoplex udp", "bare dgram", 0.9, "echoplex udp / bare dgram ≥ 0.9");
  if (!values["skip-memory"]) {
    console.log(
      `\nIdle WebSockets held (${fmt(IDLE)}), memory after a full GC (--expose-gc, preloaded gc-on-signal.mjs):\n`,
    );
    console.log(
      "| server | open | RSS before | RSS after | RSS per connection | heap per connection | external per connection |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    console.log(await idleMemory("echoplex ws", [...ECHOPLEX, "ws://127.0.0.1:0/"]));
    console.log(await idleMemory("bare ws", [here("./baselines/ws-echo.mjs")]));
  }
  console.log(
    `\nload average at end: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
  );
  console.log(`total: ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
}

await main();
