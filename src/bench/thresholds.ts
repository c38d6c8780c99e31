// Pass/fail rules for CI (`--threshold 'p99<20ms'`): parsed once, before the run, into
// typed checks with one clear error for a bad one; evaluated against the final result.
import { EchoplexError } from "../errors.js";
import { type BenchResult, errorTotal, type ThresholdOutcome } from "./result.js";

export type { ThresholdOutcome } from "./result.js";

type Op = "<" | "<=" | ">" | ">=" | "==" | "!=";
type LatencyMetric = "min" | "mean" | "p50" | "p90" | "p99" | "p999" | "max";
type CountMetric = "errors" | "mismatches" | "lost" | "rate" | "sent-rate";
type Metric = LatencyMetric | CountMetric;

export interface Threshold {
  /** As the user wrote it, for reports. */
  text: string;
  metric: Metric;
  op: Op;
  /** Microseconds for latency, a count or rate otherwise. */
  value: number;
  /** `rate>=0.99*target`: the value is a fraction of the requested rate. */
  ofTarget: boolean;
}

/** One threshold's verdict, as the summary and the JSON show it. */
const LATENCY: readonly string[] = ["min", "mean", "p50", "p90", "p99", "p999", "max"];
const COUNTS: readonly string[] = ["errors", "mismatches", "lost", "rate", "sent-rate"];
const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000 };
const GRAMMAR =
  /^\s*([a-z][a-z0-9.-]*)\s*(<=|>=|==|!=|<|>)\s*([0-9]*\.?[0-9]+)\s*(\*\s*target|us|ms|s)?\s*$/i;

const bad = (text: string, why: string) =>
  new EchoplexError(
    "ERR_BAD_THRESHOLD",
    `bad --threshold "${text}": ${why} (forms: p99<20ms, errors==0, mismatches==0, lost==0, rate>=0.99*target, rate>=5000)`,
  );

/** Parses one `--threshold` value; throws ERR_BAD_THRESHOLD with the accepted forms. */
export function parseThreshold(text: string): Threshold {
  const m = GRAMMAR.exec(text);
  if (m === null) throw bad(text, "expected METRIC OP VALUE");
  const name = m[1]!.toLowerCase().replace("p99.9", "p999");
  const op = m[2] as Op;
  const number = Number(m[3]);
  const suffix = m[4]?.replace(/\s+/g, "").toLowerCase();
  if (LATENCY.includes(name)) {
    if (suffix === undefined || UNIT_US[suffix] === undefined) {
      throw bad(text, `a latency needs a unit: ${m[3]}ms, ${m[3]}us or ${m[3]}s`);
    }
    return { text, metric: name as LatencyMetric, op, value: number * UNIT_US[suffix]!, ofTarget: false };
  }
  if (!COUNTS.includes(name)) throw bad(text, `unknown metric "${m[1]}"`);
  const ofTarget = suffix === "*target";
  if (suffix !== undefined && !ofTarget) throw bad(text, `${name} takes no unit`);
  if (ofTarget && name !== "rate" && name !== "sent-rate")
    throw bad(text, "only a rate compares with *target");
  return { text, metric: name as CountMetric, op, value: number, ofTarget };
}

/** `*target` needs an open-loop run: the requested rate (or the stages' mean) is the target. */
export function checkTargets(thresholds: readonly Threshold[], targetRate: number): void {
  const needs = thresholds.find((t) => t.ofTarget);
  if (needs !== undefined && targetRate <= 0) {
    throw bad(needs.text, "*target needs an open-loop run (--rate or --stages)");
  }
}

function measured(metric: Metric, r: BenchResult): number {
  switch (metric) {
    case "errors":
      return errorTotal(r.errors);
    case "mismatches":
      return r.mismatches;
    case "lost":
      return r.lost;
    case "rate":
      return r.msgsPerSec;
    case "sent-rate":
      return r.sentPerSec;
    default:
      return r.latencyUs[metric];
  }
}

function holds(a: number, op: Op, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

const isLatency = (metric: Metric) => LATENCY.includes(metric);

/** Every threshold's verdict; a latency threshold on a run without samples fails. */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  r: BenchResult,
  targetRate: number,
): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const limitRaw = t.ofTarget ? t.value * targetRate : t.value;
    const actualRaw = measured(t.metric, r);
    const noSamples = isLatency(t.metric) && r.latencyUs.count === 0;
    const pass = !noSamples && holds(actualRaw, t.op, limitRaw);
    const scale = isLatency(t.metric) ? 1000 : 1;
    const round = (x: number) => Math.round((x / scale) * 1000) / 1000;
    return { threshold: t.text, pass, actual: round(actualRaw), limit: round(limitRaw) };
  });
}

/** One line per threshold for the summary: `p99<20ms  ok (4.12)`. */
export function formatOutcomes(outcomes: readonly ThresholdOutcome[]): string {
  return outcomes
    .map((o) => `${o.threshold} ${o.pass ? "ok" : "FAILED"} (${o.actual} vs ${o.limit})`)
    .join(", ");
}
