// `bench script --workers`: the real CLI spreads the virtual users over worker processes
// against the real cmd service (and a real redis-server with examples/bench/redis.js);
// each iteration's scenario appends who ran it (process, user, random draw) to a file,
// so the test sees every worker's share and that user ids and random streams differ.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { startRedis } from "../helpers/redis.js";
import { bench } from "./helpers.js";

const examples = fileURLToPath(new URL("../../examples/bench/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "echoplex-bench-script-workers-"));
const log = join(dir, "iterations.log");
let cmd: RunningCli;

/** Two checked steps against cmd; each iteration's line: pid, user, iteration, first draw. */
const SCENARIO = `import { appendFileSync } from "node:fs";
export default async (conn, ctx) => {
  ctx.mark("ping");
  conn.send("PING\\n");
  await conn.expect("PONG\\n", 5000);
  ctx.mark("upper");
  const draw = ctx.random();
  conn.send("UPPER u" + ctx.vu + "\\n");
  await conn.expect("U" + ctx.vu + "\\n", 5000);
  ctx.state.n = (ctx.state.n ?? 0) + 1;
  appendFileSync(${JSON.stringify(log)}, [process.pid, ctx.vu, ctx.iteration, ctx.state.n, draw].join(" ") + "\\n");
};
`;

beforeAll(async () => {
  writeFileSync(join(dir, "cmd.js"), SCENARIO);
  cmd = await startCli(["cmd", "127.0.0.1:0", "--log-level", "warn"]);
});
afterAll(async () => {
  await cmd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("bench script --workers", () => {
  it("runs each worker's share of users with distinct ids and random streams; counts and step histograms merged", async () => {
    writeFileSync(log, "");
    const { code, result } = await bench(
      [
        "script",
        join(dir, "cmd.js"),
        `127.0.0.1:${cmd.port}`,
        "--conns",
        "5",
        "--workers",
        "2",
        "--requests",
        "200",
        "--seed",
        "7",
      ],
      60_000,
    );
    expect(code).toBe(0);
    expect(result.workers).toBe(2);
    expect(result.conns).toBe(5);
    const rows = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    const byPid = new Map<string, Set<number>>();
    for (const [pid, vu] of rows) byPid.set(pid!, (byPid.get(pid!) ?? new Set()).add(Number(vu)));
    // Two processes, 3 + 2 users, ids 0..4 each in one process only.
    expect(byPid.size).toBe(2);
    expect([...byPid.values()].map((s) => s.size).sort()).toEqual([2, 3]);
    expect([...byPid.values()].flatMap((s) => [...s]).sort()).toEqual([0, 1, 2, 3, 4]);
    // Every user's random stream is its own: their first draws all differ.
    const firstDraws = rows.filter((r) => r[2] === "0").map((r) => r[4]);
    expect(firstDraws).toHaveLength(5);
    expect(new Set(firstDraws).size).toBe(5);
    // Per-user state kept across iterations in its own process.
    for (const r of rows) expect(Number(r[3])).toBe(Number(r[2]) + 1);
    // The merge: the workers' iterations (the file's lines) add up to the result's counts.
    expect(rows).toHaveLength(200);
    expect(result.sent).toBe(200);
    expect(result.ok).toBe(200);
    expect(result.latencyUs.count).toBe(200);
    expect(result.script).toMatchObject({ seed: 7, iterations: 200, failed: 0 });
    expect(Object.keys(result.script!.steps).sort()).toEqual(["ping", "upper"]);
    expect(result.script!.steps.ping!.count).toBe(200);
    expect(result.script!.steps.upper!.count).toBe(200);
    expect(result.script!.steps.upper!.max).toBeGreaterThan(0);
    // The step histograms are for the merge; the printed JSON leaves them out.
    expect(result.script).not.toHaveProperty("stepHistograms");
  });

  it("--workers auto against a real redis-server with examples/bench/redis.js", async () => {
    const redis = await startRedis();
    try {
      const { code, result, stdout } = await bench(
        [
          "script",
          join(examples, "redis.js"),
          `127.0.0.1:${redis.port}`,
          "--conns",
          "4",
          "--workers",
          "auto",
          "--requests",
          "300",
        ],
        60_000,
      );
      expect(code, stdout).toBe(0);
      expect(result.workers).toBeGreaterThanOrEqual(1);
      expect(result.ok).toBe(300);
      expect(result.script!.iterations).toBe(300);
      for (const step of ["ping", "set", "get"]) expect(result.script!.steps[step]!.count).toBe(300);
    } finally {
      await redis.stop("SIGKILL");
    }
  });
});
