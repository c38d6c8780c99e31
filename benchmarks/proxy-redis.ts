// redis-benchmark straight to a redis-server versus through three proxies with no fault,
// in one run: `echoplex proxy` (the CLI, built dist/), HAProxy in TCP mode (the reference:
// a C proxy) and a bare Node pipe() proxy (benchmarks/node-pipe-proxy.mjs: the floor of
// any Node proxy). Issue 17's bar: echoplex at least 0.7 × direct. Each proxy's CPU per
// request (its utime + stime over the requests) is printed too: on two shared cores it is
// steadier than requests/s, which also depends on what the others leave of the machine.
//
//   npm run bench:proxy-redis -- [--requests 200000] [--clients 50] [--pipeline 1] [--repeats 3]
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs, promisify } from "node:util";
import { startHaproxy } from "../test/helpers/haproxy.js";
import { startRedis } from "../test/helpers/redis.js";

const run = promisify(execFile);
const CLI = new URL("../dist/cli/echoplex.cjs", import.meta.url).pathname;
const NODE_PIPE = new URL("./node-pipe-proxy.mjs", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "200000" },
    clients: { type: "string", default: "50" },
    pipeline: { type: "string", default: "1" },
    repeats: { type: "string", default: "3" },
  },
});
/** The issue's bar: through the proxy at least this share of direct. */
const MIN_RATIO = 0.7;
const TESTS = ["SET", "GET"] as const;
const requests = Number(values.requests);

/** Spawns a process that prints its port on stdout, and waits for the port. */
async function startPrinting(args: string[], pattern: RegExp): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
  });
  return { proc, port };
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15, in ticks
}

interface Measure {
  rate: Map<string, number>;
  /** The proxy's CPU microseconds per request over both tests (0: direct). */
  cpuUs: number;
}

async function benchmark(port: number, pid: number | undefined): Promise<Measure> {
  const before = cpuSeconds(pid);
  const { stdout } = await run(
    "redis-benchmark",
    [
      "-p",
      String(port),
      "-q",
      "-t",
      "set,get",
      "-n",
      values.requests,
      "-c",
      values.clients,
      "-P",
      values.pipeline,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const cpuUs = pid === undefined ? 0 : ((cpuSeconds(pid) - before) * 1e6) / (requests * TESTS.length);
  const rate = new Map<string, number>();
  for (const m of stdout.matchAll(/^(\w+): ([\d.]+) requests per second/gm)) rate.set(m[1]!, Number(m[2]));
  return { rate, cpuUs };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const redis = await startRedis();
const echoplex = await startPrinting(
  [CLI, "proxy", "127.0.0.1:0", "--to", `127.0.0.1:${redis.port}`, "--log-level", "warn"],
  /proxy listening on \S*:(\d+)/,
);
const nodePipe = await startPrinting([NODE_PIPE, String(redis.port)], /listening (\d+)/);
const haproxy = await startHaproxy(redis.port, ["plain"]);
const targets = [
  { name: "direct", port: redis.port, pid: undefined },
  { name: "echoplex", port: echoplex.port, pid: echoplex.proc.pid },
  { name: "haproxy", port: haproxy.ports[0]!, pid: haproxy.pid },
  { name: "node-pipe", port: nodePipe.port, pid: nodePipe.proc.pid },
] as const;
type Name = (typeof targets)[number]["name"];
const ratios = new Map<string, number[]>(); // "echoplex SET" → per-run ratios to direct
const cpu = new Map<Name, number[]>();
let failed = false;
try {
  for (const t of targets) await benchmark(t.port, undefined); // warm-up (JIT, connections)
  console.log(
    `redis-benchmark -n ${values.requests} -c ${values.clients} -P ${values.pipeline}; req/s, ratio to direct, proxy CPU us/request`,
  );
  for (let r = 1; r <= Number(values.repeats); r++) {
    const results = new Map<Name, Measure>();
    for (const t of targets) results.set(t.name, await benchmark(t.port, t.pid));
    const direct = results.get("direct")!;
    for (const test of TESTS) {
      const base = direct.rate.get(test) ?? 0;
      const cells = targets.map((t) => {
        const m = results.get(t.name)!;
        const rate = m.rate.get(test) ?? 0;
        if (t.name === "direct") return `direct ${rate.toFixed(0)}`;
        const ratio = base > 0 ? rate / base : 0;
        ratios.set(`${t.name} ${test}`, [...(ratios.get(`${t.name} ${test}`) ?? []), ratio]);
        return `${t.name} ${rate.toFixed(0)} ${ratio.toFixed(2)}`;
      });
      console.log(`run ${r} ${test.padEnd(4)} ${cells.join(" | ")}`);
    }
    for (const t of targets.slice(1))
      cpu.set(t.name, [...(cpu.get(t.name) ?? []), results.get(t.name)!.cpuUs]);
    console.log(
      `run ${r} CPU  ${targets
        .slice(1)
        .map((t) => `${t.name} ${results.get(t.name)!.cpuUs.toFixed(1)} us`)
        .join(" | ")}`,
    );
  }
  console.log("medians:");
  for (const test of TESTS) {
    const row = targets
      .slice(1)
      .map((t) => `${t.name} ${median(ratios.get(`${t.name} ${test}`) ?? []).toFixed(2)}`);
    console.log(`  ${test} ratio to direct: ${row.join(" | ")}`);
    const echo = median(ratios.get(`echoplex ${test}`) ?? []);
    const hap = median(ratios.get(`haproxy ${test}`) ?? []);
    console.log(`  ${test} echoplex ÷ haproxy: ${(hap > 0 ? echo / hap : 0).toFixed(2)}`);
    if (echo < MIN_RATIO) failed = true;
  }
  console.log(
    `  CPU us/request: ${targets
      .slice(1)
      .map((t) => `${t.name} ${median(cpu.get(t.name) ?? []).toFixed(1)}`)
      .join(" | ")}`,
  );
} finally {
  echoplex.proc.kill("SIGTERM");
  nodePipe.proc.kill("SIGTERM");
  haproxy.stop();
  await redis.stop();
}
if (failed) {
  console.error(`echoplex proxy below ${MIN_RATIO} × direct (median)`);
  process.exitCode = 1;
}
