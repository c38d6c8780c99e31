// --workers N: the same run spread over N child processes (node:child_process
// fork, one IPC channel each) when one core is not enough to generate the load.
// Each worker gets its share of connections, rate and requests; the parent sums
// progress and merges the results, HDR histograms included.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EchoplexError, ERROR_CODES, type ErrorCode } from "../errors.js";
import type { BenchOptions } from "./options.js";
import type { ProgressSnapshot } from "./recorder.js";
import { type BenchResult, mergeResults } from "./result.js";
import { mergeSeconds } from "./seconds.js";
import { scaleStages } from "./stages.js";

/** Messages from a worker to the parent. */
/** Messages from the parent to a worker after its options. */
export type ParentMessage = { type: "halt" };

export type WorkerMessage =
  | { type: "progress"; progress: ProgressSnapshot }
  | { type: "result"; result: BenchResult }
  | { type: "error"; code: string; message: string };

// From dist/bench/ (this module) or dist/cli/ (the CLI bundle, scripts/bundle-cli.mjs).
const WORKER = fileURLToPath(new URL("../bench/worker.js", import.meta.url));

const share = (total: number, n: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);

/** Worker i's part of the run: its share of connections, rate and request count. */
function splitOptions(options: BenchOptions, n: number): BenchOptions[] {
  const parts: BenchOptions[] = [];
  // Scripts: each worker's users take the next ids, so per-user state and random streams stay distinct.
  let firstVu = 0;
  for (let i = 0; i < n; i++) {
    const conns = share(options.conns, n, i);
    if (conns === 0) continue;
    const stop =
      options.stop.kind === "requests"
        ? { kind: "requests" as const, count: share(options.stop.count, n, i) }
        : options.stop;
    const stages = {
      ...(options.stages === undefined ? {} : { stages: scaleStages(options.stages, 1 / n) }),
      ...(options.connStages === undefined
        ? {}
        : { connStages: scaleStages(options.connStages, conns / options.conns) }),
    };
    const vu = options.mode === "script" ? { firstVu } : {};
    firstVu += conns;
    parts.push({ ...options, conns, stop, rate: options.rate / n, ...stages, ...vu });
  }
  return parts;
}

interface WorkersHandle {
  progress(): ProgressSnapshot;
  result: Promise<BenchResult>;
  halt(): void;
}

export function startWorkers(options: BenchOptions, n: number): WorkersHandle {
  if (options.mode === "chat") {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      "--workers does not apply to chat mode (its barrier needs every receiver in one process)",
    );
  }
  const parts = splitOptions(options, n);
  const children: ChildProcess[] = [];
  const progress = parts.map((): ProgressSnapshot => ({ replies: 0, errors: 0, mismatches: 0 }));
  const results = parts.map(
    (part, i) =>
      new Promise<BenchResult>((resolve, reject) => {
        const child = fork(WORKER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
        children.push(child);
        let settled = false;
        child.on("message", (msg: WorkerMessage) => {
          if (msg.type === "progress") progress[i] = msg.progress;
          else if (msg.type === "result") {
            settled = true;
            resolve(msg.result);
          } else {
            settled = true;
            // The worker's code, so that a TLS failure still exits 7 and a refusal says ERR_CONNECT_FAILED.
            const code = Object.hasOwn(ERROR_CODES, msg.code)
              ? (msg.code as ErrorCode)
              : "ERR_CONNECT_FAILED";
            reject(new EchoplexError(code, `worker ${i}: ${msg.message}`));
          }
        });
        child.on("exit", (code) => {
          if (!settled) reject(new Error(`worker ${i} exited with code ${code} before its result`));
        });
        child.send(part);
      }),
  );
  return {
    progress: () => {
      const total: ProgressSnapshot = progress.reduce(
        (a, p) => ({
          replies: a.replies + p.replies,
          errors: a.errors + p.errors,
          mismatches: a.mismatches + p.mismatches,
        }),
        { replies: 0, errors: 0, mismatches: 0 },
      );
      const seconds = progress.flatMap((p) => (p.second === undefined ? [] : [p.second]));
      const second = mergeSeconds(seconds.map((s) => [s]))[0];
      if (second !== undefined) total.second = second;
      return total;
    },
    result: Promise.all(results).then(mergeResults),
    halt: () => {
      const msg: ParentMessage = { type: "halt" };
      for (const child of children) if (child.connected) child.send(msg);
    },
  };
}
