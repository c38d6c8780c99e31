// `echoplex bench script FILE.js ADDR`: each virtual user (--conns) opens a connection
// and calls the scenario's default export `async (conn, ctx) => …` in a loop until the
// run's time or iteration count is spent. An iteration's time is its latency; each
// ctx.mark step has its own histogram; a failed expectation is an error under its
// step's name and the user dials afresh (the dialogue's state is unknown).
import { resolve as resolvePath } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { EchoplexError } from "../../errors.js";
import { encodeHistogram, type LatencySummary, summarize } from "../histogram.js";
import type { BenchTarget, StopRule } from "../options.js";
import { Budget } from "../pacing.js";
import { Recorder } from "../recorder.js";
import type { ScriptExtras } from "../result.js";
import { connectFailure, errorKind, whereOf } from "../transport.js";
import { ExpectFailed, type Link, openLink, type ScriptConn } from "./conn.js";
import { Context, type ScriptContext, Steps } from "./context.js";

export type Scenario = (conn: ScriptConn, ctx: ScriptContext) => Promise<void> | void;

export interface ScriptPlan {
  file: string;
  target: BenchTarget;
  conns: number;
  stop: StopRule;
  timeoutMs: number;
  seed: number;
  /** The id (ctx.vu) of the first user here: under --workers each process has its own range. */
  firstVu?: number;
  intervals?: boolean;
}

/** Pause before a user dials again after its connection failed. */
const REDIAL_PAUSE_MS = 100;

/** Loads the scenario by file URL: the default export must be a function. */
export async function loadScenario(file: string): Promise<Scenario> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolvePath(file)).href)) as { default?: unknown };
  } catch (err) {
    throw new EchoplexError("ERR_BAD_OPTION", `cannot load script ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof mod.default !== "function") {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `script ${file} has no default export function: export default async (conn, ctx) => { … }`,
    );
  }
  return mod.default as Scenario;
}

export function runScript(plan: ScriptPlan) {
  let recorder: Recorder | undefined;
  let halted = false;
  let budget: Budget | undefined;
  const steps = new Steps();
  let failed = 0;
  let firstError: string | undefined;
  const done = (async () => {
    const scenario = await loadScenario(plan.file);
    // Every user's first connection, before the clock starts: a server that cannot be
    // reached fails the run at once, as in the other modes.
    const first = await Promise.allSettled(
      Array.from({ length: plan.conns }, () => openLink(plan.target, plan.timeoutMs)),
    );
    const links = first.map((r) => (r.status === "fulfilled" ? r.value : undefined));
    if (links.every((l) => l === undefined)) {
      const reason = first.find((r) => r.status === "rejected")?.reason;
      throw connectFailure(reason ?? "no connection", whereOf(plan.target));
    }
    const rec = new Recorder(plan.stop, { intervals: plan.intervals === true });
    recorder = rec;
    for (const r of first) if (r.status === "rejected") rec.error(errorKind(r.reason));
    const spend = new Budget(plan.stop, rec.windowEnd);
    budget = spend;
    if (halted) spend.halt(performance.now());

    const user = async (vu: number, firstLink: Link | undefined) => {
      const ctx = new Context(vu, plan.seed, steps, (now) => rec.inWindow(now));
      let link = firstLink;
      while (spend.take(performance.now())) {
        if (link === undefined) {
          try {
            link = await openLink(plan.target, plan.timeoutMs);
          } catch (err) {
            rec.error(errorKind(err));
            await delay(REDIAL_PAUSE_MS);
            continue;
          }
        }
        const conn = link;
        const start = performance.now();
        rec.onSent(start);
        ctx.begin(start);
        try {
          await scenario(conn, ctx);
          const now = performance.now();
          ctx.end(now);
          rec.onReply(now, now - start, 0, "ok");
          // Closed by the server or by conn.reconnect(): the next iteration dials again.
          if (conn.closed) {
            conn.end();
            link = undefined;
          }
        } catch (err) {
          failed++;
          const kind = err instanceof ExpectFailed ? `expect:${ctx.step}` : `script:${ctx.step}`;
          rec.error(kind);
          firstError ??= `step ${ctx.step} (user ${vu}, iteration ${ctx.iteration}): ${(err as Error)?.message ?? String(err)}`;
          ctx.failed();
          conn.end();
          link = undefined;
        }
      }
      link?.end();
    };
    const firstVu = plan.firstVu ?? 0;
    await Promise.all(links.map((l, i) => user(firstVu + i, l)));
    return rec;
  })();
  return {
    recorder: () => recorder,
    done,
    halt: () => {
      halted = true;
      budget?.halt(performance.now());
      recorder?.halt(performance.now());
    },
    extras: (): ScriptExtras => {
      const summary: Record<string, LatencySummary> = {};
      const encoded: Record<string, string> = {};
      for (const [name, h] of steps.histograms) {
        summary[name] = summarize(h);
        encoded[name] = encodeHistogram(h);
      }
      const iterations = recorder?.sent ?? 0;
      return {
        file: plan.file,
        seed: plan.seed,
        iterations,
        failed,
        steps: summary,
        stepHistograms: encoded,
        ...(firstError === undefined ? {} : { firstError }),
      };
    },
  };
}
