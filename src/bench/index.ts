// The load generator as a library: prepare options (learn the echo prefix),
// start a run in this process, and read its progress and result.

import { runChat } from "./modes/chat.js";
import { cmdPlan } from "./modes/cmd.js";
import { runConnect } from "./modes/connect.js";
import { echoPlan, probePrefix } from "./modes/echo.js";
import { runHttp } from "./modes/http.js";
import { probeUdpPrefix, runUdpEcho } from "./modes/udp-echo.js";
import { type BenchOptions, describeTarget, transportOf } from "./options.js";
import type { ProgressSnapshot, Recorder } from "./recorder.js";
import { framingOver, runRequestReply } from "./request-reply.js";
import type { BenchResult } from "./result.js";
import { runScript } from "./script/runner.js";

export * from "./options.js";
export type { ProgressSnapshot } from "./recorder.js";
export { type BenchResult, errorTotal, mergeResults } from "./result.js";
export { checkModeFits, parseBenchTarget } from "./target.js";

export interface BenchHandle {
  /** Cumulative counters so far (zero until connected). */
  progress(): ProgressSnapshot;
  result: Promise<BenchResult>;
  /** Stops the run early (Ctrl-C): no new requests; the result covers what was done. */
  halt(): void;
}

/** Resolves what must be known before load starts (echo: the reply prefix, by a probe). */
export async function prepareBench(options: BenchOptions): Promise<BenchOptions> {
  if (options.mode === "echo" && options.prefix === undefined) {
    const target = options.target;
    const prefix =
      target.transport === "udp"
        ? await probeUdpPrefix(target)
        : await probePrefix(target, framingOver(target, options.framing));
    return { ...options, prefix };
  }
  return options;
}

function pipelineOf(options: BenchOptions): number {
  switch (options.mode) {
    case "echo":
    case "cmd":
    case "chat":
      return options.pipeline;
    case "connect":
      return options.parallel;
    case "http":
    case "script":
      return 1;
  }
}

/** Starts a run in this process. Echo options need a known prefix (see prepareBench). */
export function startBench(options: BenchOptions): BenchHandle {
  const base = {
    mode: options.mode,
    transport: transportOf(options),
    target: describeTarget(options),
    conns: options.conns,
    pipeline: pipelineOf(options),
    rate: options.rate,
  };
  const empty: ProgressSnapshot = { replies: 0, errors: 0, mismatches: 0 };
  const progressOf = (get: () => Recorder | undefined) => () => get()?.progress() ?? empty;
  switch (options.mode) {
    case "echo": {
      const prefix = options.prefix;
      if (prefix === undefined) throw new Error("echo prefix not resolved: call prepareBench first");
      const target = options.target;
      if (target.transport === "udp") {
        const run = runUdpEcho({ ...options, target, prefix });
        return {
          progress: progressOf(run.recorder),
          halt: run.halt,
          result: run.done.then((rec) => {
            const udp = run.extras();
            return { ...rec.result(base), lost: udp.lost, prefix, udp };
          }),
        };
      }
      const run = runRequestReply(echoPlan({ ...options, target, prefix }));
      return {
        progress: progressOf(run.recorder),
        halt: run.halt,
        result: run.done.then((rec) => ({ ...rec.result(base), prefix })),
      };
    }
    case "cmd": {
      const run = runRequestReply(cmdPlan(options));
      return {
        progress: progressOf(run.recorder),
        halt: run.halt,
        result: run.done.then((rec) => rec.result(base)),
      };
    }
    case "chat": {
      const run = runChat(options);
      return {
        progress: progressOf(run.recorder),
        halt: run.halt,
        result: run.done.then((rec) => {
          const chat = run.extras();
          return { ...rec.result(base), lost: chat.missing, chat };
        }),
      };
    }
    case "connect": {
      const run = runConnect(options);
      return {
        progress: progressOf(run.recorder),
        halt: run.halt,
        result: run.done.then((rec) => {
          const connect = run.extras();
          return {
            ...rec.result(base),
            seconds: connect.rampSeconds,
            msgsPerSec: connect.connectsPerSec,
            sentPerSec: connect.rampSeconds > 0 ? Math.round(connect.attempted / connect.rampSeconds) : 0,
            connect,
          };
        }),
      };
    }
    case "script": {
      const run = runScript(options);
      return {
        progress: progressOf(run.recorder),
        halt: run.halt,
        // A failed iteration is an error under its step; it is not also a lost request.
        result: run.done.then((rec) => ({ ...rec.result(base), lost: 0, script: run.extras() })),
      };
    }
    case "http": {
      const run = runHttp(options);
      return {
        progress: progressOf(run.recorder),
        halt: run.halt,
        result: run.done.then((rec) => rec.result(base)),
      };
    }
  }
}

/** Prepares and runs a benchmark in this process; resolves with its result. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  return startBench(await prepareBench(options)).result;
}
