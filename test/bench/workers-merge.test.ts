// --workers merges the workers' latency histograms exactly: two real worker processes
// (dist/bench/worker.js, the child --workers forks, over its IPC protocol) load the real
// echo service with very different latencies, and the merged result's percentiles are
// those of the union of their recorded values, computed here from their encoded
// histograms without the project's merge.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as hdr from "hdr-histogram-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EchoBenchOptions } from "../../src/bench/options.js";
import { type BenchResult, mergeResults } from "../../src/bench/result.js";
import type { WorkerMessage } from "../../src/bench/workers.js";
import { type RunningCli, startCli } from "../helpers/cli.js";

const WORKER = fileURLToPath(new URL("../../dist/bench/worker.js", import.meta.url));

let echo: RunningCli;
const children: ChildProcess[] = [];
beforeAll(async () => {
  echo = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await echo?.stop();
});

/** Runs one worker with `options` and returns the result it sends its parent. */
function runWorker(options: EchoBenchOptions): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.push(child);
    const timer = setTimeout(() => reject(new Error("worker gave no result within 60 s")), 60_000);
    child.on("message", (msg: WorkerMessage) => {
      if (msg.type === "result") {
        clearTimeout(timer);
        resolve(msg.result);
      } else if (msg.type === "error") {
        clearTimeout(timer);
        reject(new Error(`${msg.code}: ${msg.message}`));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before its result`));
    });
    child.send(options);
  });
}

const echoOptions = (pipeline: number, count: number): EchoBenchOptions => ({
  mode: "echo",
  target: { host: "127.0.0.1", port: echo.port },
  framing: "lines",
  conns: 2,
  pipeline,
  payload: { size: 64 },
  prefix: "ECHO: ",
  rate: 0,
  stop: { kind: "requests", count },
  timeoutMs: 10_000,
});

/** Every recorded value with its count, from each encoded histogram: the union, sorted. */
function unionOf(encoded: readonly string[]): Array<[value: number, count: number]> {
  const all: Array<[number, number]> = [];
  for (const text of encoded) {
    const h = hdr.decodeFromCompressedBase64(text) as hdr.JsHistogram;
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      all.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
    }
  }
  return all.sort((a, b) => a[0] - b[0]);
}

/** The value at `percentile` of the union by rank (the rank rule HdrHistogram uses). */
function unionPercentile(union: Array<[number, number]>, percentile: number): number {
  const total = union.reduce((n, [, c]) => n + c, 0);
  const rank = Math.max(1, Math.floor((percentile / 100) * total + 0.5));
  let seen = 0;
  for (const [value, count] of union) {
    seen += count;
    if (seen >= rank) return value;
  }
  return union.at(-1)?.[0] ?? 0;
}

describe("bench --workers histogram merge", () => {
  it("gives the percentiles of the union of the workers' histograms, not an average of theirs", async () => {
    // One worker ping-pong (short waits), the other 64 requests deep (long waits):
    // their percentiles lie far apart, so an average of them is no percentile of the whole.
    const [quick, deep] = await Promise.all([
      runWorker(echoOptions(1, 1000)),
      runWorker(echoOptions(64, 6000)),
    ]);
    expect(quick.ok).toBe(1000);
    expect(deep.ok).toBe(6000);
    const merged = mergeResults([quick, deep]);
    const union = unionOf([quick.histogram!, deep.histogram!]);
    const check = hdr.build({
      lowestDiscernibleValue: 1,
      numberOfSignificantValueDigits: 3,
    }) as hdr.JsHistogram;
    // Equal up to HdrHistogram's buckets (3 significant digits): the same bucket.
    const bucket = (us: number) => check.lowestEquivalentValue(us);
    const seen = JSON.stringify({ quick: quick.latencyUs, deep: deep.latencyUs, merged: merged.latencyUs });

    expect(merged.latencyUs.count, seen).toBe(7000);
    expect(union.reduce((n, [, c]) => n + c, 0)).toBe(7000);
    for (const [key, p] of [
      ["p50", 50],
      ["p90", 90],
      ["p99", 99],
      ["p999", 99.9],
    ] as const) {
      expect(bucket(merged.latencyUs[key]), `${key} ${seen}`).toBe(bucket(unionPercentile(union, p)));
    }
    expect(bucket(merged.latencyUs.min), seen).toBe(bucket(union[0]![0]));
    expect(bucket(merged.latencyUs.max), seen).toBe(bucket(union.at(-1)![0]));
    expect(merged.latencyUs.min).toBe(Math.min(quick.latencyUs.min, deep.latencyUs.min));
  });
});
