// redis-benchmark straight to a redis-server versus through `echoplex proxy` with no
// fault: the proxy should keep at least 0.7 × the direct throughput (issue 17). The
// proxy runs as a CLI child process (built dist/), redis-benchmark as the real client.
//
//   npm run build && npx tsx benchmarks/proxy-redis.ts [--requests 200000] [--clients 50] [--pipeline 1]
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { startRedis } from "../test/helpers/redis.js";

const run = promisify(execFile);
const CLI = new URL("../dist/cli/main.js", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "200000" },
    clients: { type: "string", default: "50" },
    pipeline: { type: "string", default: "1" },
  },
});
/** The bar: through the proxy at least this share of direct. */
const MIN_RATIO = 0.7;

async function startProxy(upstream: number): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(
    process.execPath,
    [CLI, "proxy", "127.0.0.1:0", "--to", `127.0.0.1:${upstream}`, "--log-level", "warn"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /proxy listening on \S*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`proxy exited with ${code}: ${out}`)));
  });
  return { proc, port };
}

/** requests per second of each test redis-benchmark ran (`SET: 123456.79 requests per second`). */
async function benchmark(port: number): Promise<Map<string, number>> {
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
  const rates = new Map<string, number>();
  for (const m of stdout.matchAll(/^(\w+): ([\d.]+) requests per second/gm)) rates.set(m[1]!, Number(m[2]));
  return rates;
}

const redis = await startRedis();
const proxy = await startProxy(redis.port);
let failed = false;
try {
  await benchmark(redis.port); // warm-up
  const direct = await benchmark(redis.port);
  const through = await benchmark(proxy.port);
  console.log("test   direct req/s   proxy req/s   ratio");
  for (const [test, rate] of direct) {
    const proxied = through.get(test) ?? 0;
    const ratio = proxied / rate;
    if (ratio < MIN_RATIO) failed = true;
    console.log(
      `${test.padEnd(6)} ${rate.toFixed(0).padStart(12)} ${proxied.toFixed(0).padStart(13)} ${ratio.toFixed(2).padStart(7)}`,
    );
  }
} finally {
  proxy.proc.kill("SIGTERM");
  await redis.stop();
}
if (failed) {
  console.error(`through the proxy below ${MIN_RATIO} × direct`);
  process.exitCode = 1;
}
