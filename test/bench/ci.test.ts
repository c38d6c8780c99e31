// bench as a CI tool: load shapes followed second by second, thresholds with their
// exit codes and a JUnit file read back by xmllint, an HDR interval log read back by
// hdr-histogram-js, and --compare against a saved run. Real echo servers (the CLI) on port 0.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as hdr from "hdr-histogram-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResult } from "../../src/bench/result.js";
import { CLI, type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";
import { lineServer, listen } from "./servers.js";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "echoplex-bench-ci-"));
let echo: RunningCli;
let addr: string;
beforeAll(async () => {
  echo = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
  addr = `127.0.0.1:${echo.port}`;
});
afterAll(async () => {
  await echo?.stop();
});

/** The stages' rate at `ms` into the run, written out again here (not the pacer's code). */
function rateAt(stages: Array<[number, number, number]>, ms: number): number {
  let start = 0;
  for (const [len, from, to] of stages) {
    if (ms < start + len) return from + ((to - from) * (ms - start)) / len;
    start += len;
  }
  return 0;
}

function expectedBetween(stages: Array<[number, number, number]>, fromMs: number, toMs: number): number {
  let n = 0;
  for (let t = fromMs; t < toMs; t += 1) n += rateAt(stages, t + 0.5) / 1000;
  return n;
}

/** Runs the CLI, returning the exit code, stdout and the JUnit file's xmllint checks. */
async function junitOf(file: string): Promise<{ cases: number; failures: number; names: string[] }> {
  // xmllint refuses a file that is not well-formed XML (non-zero exit: exec throws).
  const count = async (xpath: string) =>
    Number((await exec("xmllint", ["--xpath", xpath, file])).stdout.trim());
  const names = (await exec("xmllint", ["--xpath", "//testcase/@name", file])).stdout
    .trim()
    .split("\n")
    .map((s) => s.trim().replace(/^name="(.*)"$/, "$1"));
  return {
    cases: await count("count(//testsuite/testcase)"),
    failures: await count("count(//testcase/failure)"),
    names,
  };
}

/** Reads an interval log with hdr-histogram-js's reader and adds its intervals up. */
function readHdrLog(file: string): { sum: hdr.Histogram; intervals: number } {
  const reader = new hdr.HistogramLogReader(readFileSync(file, "utf8"));
  const sum = hdr.build({ useWebAssembly: false });
  let intervals = 0;
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    sum.add(h);
    intervals++;
  }
  return { sum, intervals };
}

describe("bench load shapes", () => {
  it("follows --stages second by second within 10 % and streams one JSON line per second", async () => {
    const stages: Array<[number, number, number]> = [
      [1000, 200, 1000],
      [2000, 1000, 1000],
      [1500, 1000, 300],
    ];
    const out = await runCli(
      [
        "bench",
        "echo",
        addr,
        "--conns",
        "4",
        "--stages",
        "1s:200->1000,2s:1000,1.5s:1000->300",
        "--json-stream",
        "--json",
      ],
      { timeoutMs: 60_000 },
    );
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split("\n");
    const result = JSON.parse(lines.at(-1)!) as BenchResult;
    const streamed = lines.slice(0, -1).map((l) => JSON.parse(l) as { type: string; sent: number });
    expect(streamed.length).toBeGreaterThanOrEqual(3);
    // One line per second of the result, the short last one included.
    expect(streamed.map((s) => s.sent)).toEqual(result.perSecond?.map((s) => s.sent));
    expect(streamed.every((s) => s.type === "second")).toBe(true);
    const seconds = result.perSecond ?? [];
    expect(seconds.length).toBeGreaterThanOrEqual(4);
    // Whole-second buckets away from the run's edges: what the stages say they should hold.
    const inner = seconds.slice(1, -1).filter((s) => s.len > 0.9);
    expect(inner.length).toBeGreaterThanOrEqual(2);
    for (const s of inner) {
      const end = s.t * 1000;
      const expected = expectedBetween(stages, end - s.len * 1000, end);
      expect(Math.abs(s.sent - expected) / expected, JSON.stringify({ s, expected })).toBeLessThan(0.1);
    }
    const total = 600 + 2000 + 975;
    expect(Math.abs(result.sent - total) / total).toBeLessThan(0.02);
    expect(result.ok).toBe(result.sent);
    expect(result.rate).toBeCloseTo(total / 4.5, 0);
  });

  it("--ramp-conns brings connections into a closed loop over the ramp, then holds them", async () => {
    const { code, result } = await bench(
      ["echo", addr, "--ramp-conns", "8/2s", "--duration", "1.5s", "--pipeline", "2"],
      30_000,
    );
    expect(code).toBe(0);
    expect(result.conns).toBe(8);
    expect(result.rate).toBe(0);
    const seconds = result.perSecond ?? [];
    // Each second's end: about 4 connections at 1s, 8 from 2s on (the ticker runs every 50 ms).
    const at = (t: number) => seconds.find((s) => Math.abs(s.t - t) < 0.3);
    const first = at(1);
    expect(first?.conns, JSON.stringify(seconds)).toBeGreaterThanOrEqual(3);
    expect(first?.conns).toBeLessThanOrEqual(5);
    expect(at(3)?.conns ?? seconds.at(-1)?.conns).toBe(8);
    expect(seconds[0]!.replies).toBeGreaterThan(0);
    expect(result.ok).toBe(result.sent);
    const conflicting = await runCli(["bench", "echo", addr, "--ramp-conns", "8/2s", "--rate", "100"]);
    expect(conflicting.code).toBe(2);
    const bad = await runCli(["bench", "echo", addr, "--ramp-conns", "eight"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("N/DURATION");
  });

  it("refuses --stages with --rate or --duration, and a malformed stage, as usage errors", async () => {
    const both = await runCli(["bench", "echo", addr, "--stages", "1s:100", "--rate", "100"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--rate or --stages");
    const dur = await runCli(["bench", "echo", addr, "--stages", "1s:100", "--duration", "2s"]);
    expect(dur.code).toBe(2);
    const bad = await runCli(["bench", "echo", addr, "--stages", "1s:fast"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bad --stages");
  });
});

describe("bench thresholds", () => {
  const run = (extra: string[], junit?: string) =>
    runCli(
      [
        "bench",
        "echo",
        addr,
        "--conns",
        "2",
        "--rate",
        "400",
        "--duration",
        "1s",
        "--warmup",
        "0s",
        ...extra,
        ...(junit === undefined ? [] : ["--junit", junit]),
      ],
      { timeoutMs: 30_000 },
    );

  it("exits 0 when every threshold holds and writes one passing testcase per threshold", async () => {
    const junit = join(dir, "pass.xml");
    const out = await run(
      [
        "--threshold",
        "p99<10s",
        "--threshold",
        "errors==0",
        "--threshold",
        "mismatches==0",
        "--threshold",
        "lost==0",
        "--threshold",
        "rate>=0.5*target",
      ],
      junit,
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/thresholds\s+p99<10s ok/);
    expect(await junitOf(junit)).toEqual({
      cases: 5,
      failures: 0,
      names: ["p99&lt;10s", "errors==0", "mismatches==0", "lost==0", "rate&gt;=0.5*target"],
    });
  });

  it("exits 8 when a latency or rate threshold fails; the summary, JSON and JUnit name it", async () => {
    const junit = join(dir, "fail.xml");
    const out = await run(
      ["--threshold", "p99<1us", "--threshold", "rate>=2*target", "--threshold", "errors==0", "--json"],
      junit,
    );
    expect(out.code).toBe(8);
    expect(out.stderr).toContain("ERR_THRESHOLD_FAILED");
    expect(out.stderr).toContain("p99<1us");
    const result = JSON.parse(out.stdout.trim()) as BenchResult;
    expect(result.thresholds?.map((t) => [t.threshold, t.pass])).toEqual([
      ["p99<1us", false],
      ["rate>=2*target", false],
      ["errors==0", true],
    ]);
    expect(result.thresholds?.[1]?.limit).toBe(800);
    const report = await junitOf(junit);
    expect(report.cases).toBe(3);
    expect(report.failures).toBe(2);
    const failed = (await exec("xmllint", ["--xpath", "//testcase[failure]/@name", junit])).stdout;
    expect(failed).toContain("p99&lt;1us");
    expect(failed).not.toContain("errors==0");
  });

  it("errors==0, mismatches==0 and lost==0 fail (exit 8) against a server that answers wrongly, skips one and closes", async () => {
    let n = 0;
    const srv = await listen(
      lineServer((socket, line) => {
        n++;
        if (n === 50) socket.destroy();
        else if (n === 30)
          return; // never answered: lost
        else socket.write(n % 10 === 0 ? "WRONG\n" : `${line}\n`);
      }),
    );
    try {
      const junit = join(dir, "errors.xml");
      const out = await runCli(
        [
          "bench",
          "cmd",
          `127.0.0.1:${srv.port}`,
          "--conns",
          "2",
          "--expect",
          "PING",
          "--requests",
          "200",
          "--timeout",
          "500ms",
          "--threshold",
          "errors==0",
          "--threshold",
          "mismatches==0",
          "--threshold",
          "p99<10s",
          "--threshold",
          "lost==0",
          "--threshold",
          "rate>=1",
          "--junit",
          junit,
          "--json",
        ],
        { timeoutMs: 30_000 },
      );
      expect(out.code).toBe(8);
      const result = JSON.parse(out.stdout.trim()) as BenchResult;
      expect(result.thresholds?.map((t) => t.pass)).toEqual([false, false, true, false, true]);
      expect(result.mismatches).toBeGreaterThan(0);
      expect(result.lost).toBeGreaterThan(0);
      expect((await junitOf(junit)).failures).toBe(3);
    } finally {
      await srv.close();
    }
  });

  it("refuses a malformed threshold, a latency without a unit and *target in closed loop with exit 2", async () => {
    for (const [rule, says] of [
      ["p99 20ms", "expected METRIC OP VALUE"],
      ["p99<20", "needs a unit"],
      ["latency<5ms", 'unknown metric "latency"'],
      ["rate>=0.99*target", "open-loop"],
    ] as const) {
      const out = await runCli(["bench", "echo", addr, "--requests", "10", "--threshold", rule]);
      expect(out.code, rule).toBe(2);
      expect(out.stderr).toContain("ERR_BAD_THRESHOLD");
      expect(out.stderr).toContain(says);
    }
  });

  it("without thresholds --junit reports the run as one testcase, failed when the run failed", async () => {
    const junit = join(dir, "plain.xml");
    const out = await runCli(["bench", "echo", addr, "--requests", "50", "--junit", junit]);
    expect(out.code).toBe(0);
    expect(await junitOf(junit)).toEqual({ cases: 1, failures: 0, names: ["run"] });
  });
});

describe("bench honest reporting", () => {
  it("shows the last second's rate, p50 and p99 on the live line of a terminal", async () => {
    // script(1) gives the command a real pseudo-terminal.
    const command = `${process.execPath} ${CLI} bench echo ${addr} --duration 2s --warmup 0`;
    const { stdout } = await exec("script", ["-qec", command, "/dev/null"], { timeout: 30_000 });
    // Each update returns the cursor (CR) and clears the line (ESC [K) before rewriting it.
    expect(stdout).toContain("\r\u001b[K[");
    expect(stdout).toMatch(
      /\[\d\.\d\/2\.0s\] [\d,]+\/s {2}replies [\d,]+ {2}errors 0 {2}mismatches 0 {2}p50 [\d.]+ms {2}p99 [\d.]+ms/,
    );
  });

  it("writes an HDR interval log whose histograms add up to the printed percentiles", async () => {
    const log = join(dir, "run.hdr");
    const { code, result } = await bench(
      [
        "echo",
        addr,
        "--conns",
        "2",
        "--rate",
        "500",
        "--duration",
        "2.5s",
        "--warmup",
        "0s",
        "--hdr-log",
        log,
      ],
      30_000,
    );
    expect(code).toBe(0);
    const { sum, intervals } = readHdrLog(log);
    const seen = JSON.stringify({ read: sum.summary, printed: result.latencyUs, intervals });
    expect(intervals, seen).toBeGreaterThanOrEqual(3);
    expect(sum.totalCount, seen).toBe(result.latencyUs.count);
    expect(sum.getValueAtPercentile(50), seen).toBe(result.latencyUs.p50);
    expect(sum.getValueAtPercentile(99), seen).toBe(result.latencyUs.p99);
    // The max is exact in one histogram, its bucket's top after an add: equal to HDR's 3 digits.
    expect(Math.abs(sum.maxValue - result.latencyUs.max) / result.latencyUs.max).toBeLessThan(0.001);
  });

  it("merges --workers histograms exactly: the log of two workers adds up to the merged result", async () => {
    const log = join(dir, "workers.hdr");
    const { code, result } = await bench(
      [
        "echo",
        addr,
        "--conns",
        "2",
        "--workers",
        "2",
        "--rate",
        "400",
        "--duration",
        "1.5s",
        "--warmup",
        "0s",
        "--hdr-log",
        log,
      ],
      30_000,
    );
    expect(code).toBe(0);
    expect(result.workers).toBe(2);
    const { sum } = readHdrLog(log);
    expect(sum.totalCount).toBe(result.latencyUs.count);
    expect(sum.getValueAtPercentile(99)).toBe(result.latencyUs.p99);
    expect(result.uncorrectedUs?.count).toBe(result.latencyUs.count);
  });

  it("prints corrected and uncorrected percentiles in open loop, only the one in closed loop", async () => {
    const open = await runCli(["bench", "echo", addr, "--rate", "300", "--duration", "1s", "--warmup", "0s"]);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toMatch(/^latency\s+p50 .*\nuncorrected\s+p50 /m);
    const closed = await bench(["echo", addr, "--requests", "100"]);
    expect(closed.result.uncorrectedUs).toBeUndefined();
    expect(closed.stdout).not.toContain("uncorrected");
    const json = await bench(["echo", addr, "--rate", "300", "--duration", "1s", "--warmup", "0s"]);
    const u = json.result.uncorrectedUs!;
    expect(u.count).toBe(json.result.latencyUs.count);
    // The actual send is never before the intended one: uncorrected latency cannot exceed corrected.
    expect(u.max).toBeLessThanOrEqual(json.result.latencyUs.max);
  });

  it("--compare prints each figure's change against a saved --json result", async () => {
    const saved = join(dir, "old.json");
    const old = await bench(["echo", addr, "--requests", "300"]);
    const edited: BenchResult = { ...old.result, msgsPerSec: old.result.msgsPerSec * 100, mismatches: 0 };
    writeFileSync(saved, `${JSON.stringify(edited)}\n`);
    const out = await runCli(["bench", "echo", addr, "--requests", "300", "--compare", saved]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`compared with ${saved}:`);
    const row = out.stdout.split("\n").find((l) => l.startsWith("msgs/s"));
    expect(row).toMatch(/^msgs\/s\s+\d+\s+\d+\s+-\d+(\.\d)?% worse$/);
    expect(out.stdout).toMatch(/^p99 us\s+\d+\s+\d+\s+/m);
    const json = await bench(["echo", addr, "--requests", "300", "--compare", saved]);
    const compare = (json.result as BenchResult & { compare: Array<{ figure: string; old: number }> })
      .compare;
    expect(compare.find((c) => c.figure === "msgs/s")?.old).toBe(edited.msgsPerSec);
    const missing = await runCli([
      "bench",
      "echo",
      addr,
      "--requests",
      "10",
      "--compare",
      join(dir, "nope.json"),
    ]);
    expect(missing.code).toBe(2);
  });
});
