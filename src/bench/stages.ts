// Open-loop load shapes (`--stages '10s:0->5000,30s:5000,10s:5000->0'`): the rate
// ramps linearly or holds in each stage. The pacer asks how many requests are due by
// a time and when request i is due, so that a ramp is as free of coordinated omission
// as a constant rate.

import { parseDuration } from "../cli/units.js";
import { EchoplexError } from "../errors.js";

/** One stage: `ms` long, the rate going linearly from `from` to `to` per second. */
export interface Stage {
  ms: number;
  from: number;
  to: number;
}

/** When requests are due: a constant rate or stages. */
export interface Schedule {
  /** Requests due in the first `ms` milliseconds (fractional). */
  dueBy(ms: number): number;
  /** Milliseconds after the start at which request `i` (0-based) is due; Infinity past the end. */
  timeOf(i: number): number;
}

const MAX_STAGES = 100;
const MAX_RATE = 10_000_000;

/** Parses `DURATION:RATE` or `DURATION:FROM->TO`, comma-separated. */
export function parseStages(text: string): Stage[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length > MAX_STAGES) throw badStages(text, `at most ${MAX_STAGES} stages`);
  return parts.map((part) => {
    const m = /^([^:]+):\s*(\d+(?:\.\d+)?)\s*(?:->\s*(\d+(?:\.\d+)?))?$/.exec(part);
    if (m === null) throw badStages(text, `"${part}" is not DURATION:RATE or DURATION:FROM->TO`);
    const ms = parseDuration(m[1]!.trim(), "--stages");
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (ms <= 0) throw badStages(text, `"${part}" lasts no time`);
    if (from > MAX_RATE || to > MAX_RATE) throw badStages(text, `rates above ${MAX_RATE}/s`);
    return { ms, from, to };
  });
}

function badStages(text: string, why: string): EchoplexError {
  return new EchoplexError("ERR_BAD_OPTION", `bad --stages "${text}": ${why} (e.g. 10s:0->5000,30s:5000)`);
}

export const stagesMs = (stages: readonly Stage[]) => stages.reduce((n, s) => n + s.ms, 0);

/** Requests over all stages. */
export const stagesRequests = (stages: readonly Stage[]) =>
  stages.reduce((n, s) => n + ((s.from + s.to) / 2) * (s.ms / 1000), 0);

/** The mean rate over the stages: the run's target rate. */
export function stagesMeanRate(stages: readonly Stage[]): number {
  const ms = stagesMs(stages);
  return ms > 0 ? (stagesRequests(stages) * 1000) / ms : 0;
}

export const scaleStages = (stages: readonly Stage[], factor: number): Stage[] =>
  stages.map((s) => ({ ms: s.ms, from: s.from * factor, to: s.to * factor }));

export function constantSchedule(rate: number): Schedule {
  const interval = 1000 / rate;
  return { dueBy: (ms) => ms / interval, timeOf: (i) => i * interval };
}

/** Requests due `t` ms into a stage (the integral of its linear rate). */
const dueIn = (s: Stage, t: number) => (s.from * t + ((s.to - s.from) * t * t) / (2 * s.ms)) / 1000;

export function stagesSchedule(stages: readonly Stage[]): Schedule {
  const starts: number[] = [];
  const before: number[] = [];
  let at = 0;
  let count = 0;
  for (const s of stages) {
    starts.push(at);
    before.push(count);
    at += s.ms;
    count += dueIn(s, s.ms);
  }
  const total = count;
  const endMs = at;
  return {
    dueBy(ms) {
      if (ms >= endMs) return total;
      let k = stages.length - 1;
      while (k > 0 && starts[k]! > ms) k--;
      return before[k]! + dueIn(stages[k]!, ms - starts[k]!);
    },
    timeOf(i) {
      if (i >= total) return Number.POSITIVE_INFINITY;
      let k = stages.length - 1;
      while (k > 0 && before[k]! > i) k--;
      const s = stages[k]!;
      const n = (i - before[k]!) * 1000;
      // Solve from*t + (to-from)*t²/(2ms) = n for t in the stage.
      const a = (s.to - s.from) / (2 * s.ms);
      const t =
        Math.abs(a) < 1e-12
          ? n / s.from
          : (-s.from + Math.sqrt(Math.max(0, s.from * s.from + 4 * a * n))) / (2 * a);
      return starts[k]! + Math.min(s.ms, Math.max(0, t));
    },
  };
}

/** The stages' level `ms` into the run (closed loop: connections carrying load); 0 after the end. */
export function levelAt(stages: readonly Stage[], ms: number): number {
  let start = 0;
  for (const s of stages) {
    if (ms < start + s.ms) return s.from + ((s.to - s.from) * (ms - start)) / s.ms;
    start += s.ms;
  }
  return stages.at(-1)?.to ?? 0;
}

/** `--ramp-conns N/DUR`: from 0 to N connections over DUR. */
export function parseRamp(text: string): Stage {
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  if (m === null) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `bad --ramp-conns "${text}": expected N/DURATION, e.g. 1000/10s`,
    );
  }
  const ms = parseDuration(m[2]!, "--ramp-conns");
  if (ms <= 0 || Number(m[1]) < 1) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `bad --ramp-conns "${text}": needs at least 1 connection and a duration`,
    );
  }
  return { ms, from: 0, to: Number(m[1]) };
}
