// The outcome of a run, the same shape for every mode (plus a mode's own extras),
// and the merge of the results of several worker processes.
import { encodeHistogram, type LatencySummary, mergeHistograms, summarize } from "./histogram.js";
import type { BenchMode } from "./options.js";
import { type LoggedInterval, mergeIntervals, mergeSeconds, type SecondFigures } from "./seconds.js";

/** What a scripted run adds to its result (`bench script`). */
export interface ScriptExtras {
  file: string;
  seed: number;
  iterations: number;
  failed: number;
  /** Latency of each ctx.mark step, microseconds. */
  steps: Record<string, LatencySummary>;
  /** Each step's histogram, compressed, for the workers' merge (not printed in the JSON). */
  stepHistograms?: Record<string, string>;
  /** The first failure, with its step, for diagnosis. */
  firstError?: string;
}

/** One --threshold rule and whether the run held it. */
export interface ThresholdOutcome {
  threshold: string;
  pass: boolean;
  /** The measured figure, in the threshold's unit (ms for latency). */
  actual: number;
  /** The limit it was compared with, in the same unit. */
  limit: number;
}

/** What failed, by kind: errno codes (`ECONNREFUSED`), `closed`, `timeout`, `http_503`, … */
export type ErrorCounts = Record<string, number>;

export interface ChatExtras {
  receivers: number;
  senders: number;
  receiversSynced: number;
  expectedDeliveries: number;
  delivered: number;
  missing: number;
  duplicateOrReordered: number;
  /** Flood-control notices the senders got from the server (`! flood…`); the first stops the run. */
  floodNotices: number;
  /** The first such notice, as the server wrote it. */
  floodNotice?: string;
  /** Messages the server dropped, estimated as missing deliveries per receiver. */
  floodDropped?: number;
}

export interface ConnectExtras {
  attempted: number;
  opened: number;
  failed: number;
  /** Connections still open when the hold ended. */
  heldAtEnd: number;
  connectsPerSec: number;
  rampSeconds: number;
  holdSeconds: number;
}

/** UDP echo: what became of the datagrams. sent = received + lost. */
export interface UdpExtras {
  sent: number;
  /** Requests answered (each counted once, however many answers came). */
  received: number;
  /** Requests never answered. */
  lost: number;
  /** Answers beyond the first to the same request. */
  duplicated: number;
  /** Answers that came after the answer to a later request on the same socket. */
  reordered: number;
}

export interface BenchResult {
  mode: BenchMode;
  /** How the load travelled: tcp, tls, unix, ws, wss, udp, http or https. */
  transport: string;
  target: string;
  conns: number;
  pipeline: number;
  /** Requested open-loop rate (0: closed loop). */
  rate: number;
  workers: number;
  /** The measured window (duration mode) or first send to last reply (requests mode). */
  seconds: number;
  /** Requests (messages, connections) sent over the whole run, warm-up included. */
  sent: number;
  /** Replies received over the whole run. */
  replies: number;
  /** Replies that were verified correct. */
  ok: number;
  mismatches: number;
  /** Requests never answered (sent - replies at the end). */
  lost: number;
  /** Replies in the measured window. */
  measured: number;
  msgsPerSec: number;
  /** Reply bytes per second in the window, 1e6 B/s. */
  mbPerSec: number;
  /** Requests sent per second in the window (the achieved rate in open loop). */
  sentPerSec: number;
  /** Latency in microseconds: from the send (closed loop) or the intended send time (open loop). */
  latencyUs: LatencySummary;
  errors: ErrorCounts;
  /**
   * CPU the load generator used during the run, in percent of one core (summed over
   * workers). Near 100 per worker means the load generator, not the server, was the limit.
   */
  cpuPercent: number;
  /** CPU time the load generator used during the run, in microseconds (summed over workers). */
  cpuUs: number;
  /** cpuUs per reply: what one request/reply costs the load generator (0 without replies). */
  cpuUsPerReply: number;
  /**
   * CPU time inside the measured window only (from its first reply to the first reply
   * after it), summed over workers: no start-up, warm-up or teardown.
   */
  windowCpuUs: number;
  /** windowCpuUs per measured reply: the steady-state cost of one reply. */
  windowCpuUsPerReply: number;
  /** The first wrong reply, for diagnosis. */
  firstMismatch?: string;
  /** The prefix the echo replies were checked against. */
  prefix?: string;
  chat?: ChatExtras;
  connect?: ConnectExtras;
  udp?: UdpExtras;
  script?: ScriptExtras;
  /** The latency histogram, compressed (workers send it to the parent for merging). */
  histogram?: string;
  /** Open loop: latency from the actual send, not the intended one (what a closed-loop tool would report). */
  uncorrectedUs?: LatencySummary;
  /** Its histogram, compressed, for the workers' merge. */
  uncorrectedHistogram?: string;
  /** Each second of the run (warm-up included): counts, and latency of the measured replies. */
  perSecond?: SecondFigures[];
  /** --hdr-log: each second's histogram (not printed in the JSON). */
  intervals?: LoggedInterval[];
  /** --threshold verdicts. */
  thresholds?: ThresholdOutcome[];
}

/** Total of errors of every kind. */
export function errorTotal(errors: ErrorCounts): number {
  let n = 0;
  for (const v of Object.values(errors)) n += v;
  return n;
}

function addCounts(into: ErrorCounts, from: ErrorCounts): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** CPU microseconds per reply, to 0.01 us. */
export const perReply = (cpuUs: number, replies: number) => (replies > 0 ? round(cpuUs / replies, 2) : 0);

/**
 * Merges the results of worker processes run side by side. Rates are over the longest
 * worker window (the same for every worker in a --duration run that was not interrupted).
 */
export function mergeResults(parts: readonly BenchResult[]): BenchResult {
  const first = parts[0];
  if (first === undefined) throw new Error("no results to merge");
  const histogram = mergeHistograms(parts.map((p) => p.histogram ?? ""));
  const sum = (pick: (r: BenchResult) => number) => parts.reduce((n, r) => n + pick(r), 0);
  const errors: ErrorCounts = {};
  for (const p of parts) addCounts(errors, p.errors);
  const seconds = Math.max(...parts.map((r) => r.seconds));
  const merged: BenchResult = {
    ...first,
    conns: sum((r) => r.conns),
    rate: sum((r) => r.rate),
    workers: parts.length,
    seconds,
    sent: sum((r) => r.sent),
    replies: sum((r) => r.replies),
    ok: sum((r) => r.ok),
    mismatches: sum((r) => r.mismatches),
    lost: sum((r) => r.lost),
    measured: sum((r) => r.measured),
    // Over the longest window, so that msgsPerSec = measured / seconds holds for the merge too.
    msgsPerSec: seconds > 0 ? Math.round(sum((r) => r.measured) / seconds) : 0,
    mbPerSec: seconds > 0 ? round(sum((r) => r.mbPerSec * r.seconds) / seconds, 4) : 0,
    sentPerSec: seconds > 0 ? Math.round(sum((r) => r.sentPerSec * r.seconds) / seconds) : 0,
    latencyUs: summarize(histogram),
    errors,
    cpuPercent: sum((r) => r.cpuPercent),
    cpuUs: sum((r) => r.cpuUs),
    cpuUsPerReply: perReply(
      sum((r) => r.cpuUs),
      sum((r) => r.replies),
    ),
    windowCpuUs: sum((r) => r.windowCpuUs),
    windowCpuUsPerReply: perReply(
      sum((r) => r.windowCpuUs),
      sum((r) => r.measured),
    ),
    histogram: encodeHistogram(histogram),
  };
  if (first.perSecond !== undefined) merged.perSecond = mergeSeconds(parts.map((p) => p.perSecond ?? []));
  if (first.intervals !== undefined) merged.intervals = mergeIntervals(parts.map((p) => p.intervals ?? []));
  if (first.uncorrectedHistogram !== undefined) {
    const uncorrected = mergeHistograms(parts.map((p) => p.uncorrectedHistogram ?? ""));
    merged.uncorrectedUs = summarize(uncorrected);
    merged.uncorrectedHistogram = encodeHistogram(uncorrected);
  }
  const mismatch = parts.find((p) => p.firstMismatch !== undefined)?.firstMismatch;
  if (mismatch !== undefined) merged.firstMismatch = mismatch;
  if (first.udp) {
    const u = parts.map((p) => p.udp!);
    const total = (pick: (x: UdpExtras) => number) => u.reduce((n, x) => n + pick(x), 0);
    merged.udp = {
      sent: total((x) => x.sent),
      received: total((x) => x.received),
      lost: total((x) => x.lost),
      duplicated: total((x) => x.duplicated),
      reordered: total((x) => x.reordered),
    };
  }
  if (first.connect) {
    const c = parts.map((p) => p.connect!);
    const rampSeconds = Math.max(...c.map((x) => x.rampSeconds));
    const opened = c.reduce((n, x) => n + x.opened, 0);
    merged.connect = {
      attempted: c.reduce((n, x) => n + x.attempted, 0),
      opened,
      failed: c.reduce((n, x) => n + x.failed, 0),
      heldAtEnd: c.reduce((n, x) => n + x.heldAtEnd, 0),
      connectsPerSec: rampSeconds > 0 ? Math.round(opened / rampSeconds) : 0,
      rampSeconds,
      holdSeconds: Math.max(...c.map((x) => x.holdSeconds)),
    };
  }
  if (first.script) merged.script = mergeScript(parts.map((p) => p.script!));
  return merged;
}

/** The workers' scripted runs as one: counts added, each step's histograms merged. */
function mergeScript(parts: readonly ScriptExtras[]): ScriptExtras {
  const byStep = new Map<string, string[]>();
  for (const p of parts) {
    for (const [name, h] of Object.entries(p.stepHistograms ?? {})) {
      byStep.set(name, [...(byStep.get(name) ?? []), h]);
    }
  }
  const steps: Record<string, LatencySummary> = {};
  const stepHistograms: Record<string, string> = {};
  for (const [name, encoded] of byStep) {
    const h = mergeHistograms(encoded);
    steps[name] = summarize(h);
    stepHistograms[name] = encodeHistogram(h);
  }
  const firstError = parts.find((p) => p.firstError !== undefined)?.firstError;
  return {
    file: parts[0]!.file,
    seed: parts[0]!.seed,
    iterations: parts.reduce((n, p) => n + p.iterations, 0),
    failed: parts.reduce((n, p) => n + p.failed, 0),
    steps,
    stepHistograms,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
