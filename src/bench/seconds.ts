// Per-second figures of a run: once a second (the shared ticker) the recorder's
// cumulative counters are differenced and its interval histogram is folded into the
// run's total. The hot path only bumps counters and records into one histogram, as
// before; nothing is allocated per message.
import type { Histogram } from "./histogram.js";
import { encodeHistogram, mergeHistograms } from "./histogram.js";

/** One second of the run, as `perSecond` in the JSON and the --json-stream lines. */
export interface SecondFigures {
  /** End of the interval, seconds since the run started (warm-up included). */
  t: number;
  /** Interval length in seconds (about 1; the last one is shorter). */
  len: number;
  sent: number;
  replies: number;
  errors: number;
  mismatches: number;
  /** Latency percentiles of the replies in this interval, microseconds (0 without replies). */
  p50: number;
  p99: number;
  /** Closed loop with a connection shape: connections carrying load at the interval's end. */
  conns?: number;
}

/** An interval histogram for --hdr-log, with its times in seconds since the run started. */
export interface LoggedInterval {
  start: number;
  len: number;
  /** Compressed (HdrHistogram's base64 form). */
  histogram: string;
}

export interface Counters {
  sent: number;
  replies: number;
  errorCount: number;
  mismatches: number;
  activeConns?: number | undefined;
}

const SECOND_MS = 1000;
/** A tick this early still closes the second: buckets stay within a few ms of 1 s. */
const ROLL_SLACK_MS = 5;

/** Past this many seconds the oldest are dropped from the JSON (an hour). */
const MAX_SECONDS_KEPT = 3600;

export class SecondRoller {
  readonly seconds: SecondFigures[] = [];
  readonly intervals: LoggedInterval[] = [];
  private last = { sent: 0, replies: 0, errorCount: 0, mismatches: 0 };
  private lastAt: number;

  constructor(
    private readonly startedAt: number,
    private readonly keepIntervals: boolean,
  ) {
    this.lastAt = startedAt;
  }

  /** A second has passed since the last roll (minus a little timer jitter). */
  due(now: number): boolean {
    return now - this.lastAt >= SECOND_MS - ROLL_SLACK_MS;
  }

  /** Closes the interval ending `now`: `interval` is added to `total` and reset. */
  roll(now: number, c: Counters, interval: Histogram, total: Histogram): SecondFigures | undefined {
    const len = (now - this.lastAt) / 1000;
    if (len <= 0) return undefined;
    const count = interval.totalCount;
    const figures: SecondFigures = {
      t: Math.round(now - this.startedAt) / 1000,
      len: Math.round(len * 1000) / 1000,
      sent: c.sent - this.last.sent,
      replies: c.replies - this.last.replies,
      errors: c.errorCount - this.last.errorCount,
      mismatches: c.mismatches - this.last.mismatches,
      p50: count > 0 ? interval.getValueAtPercentile(50) : 0,
      p99: count > 0 ? interval.getValueAtPercentile(99) : 0,
    };
    if (c.activeConns !== undefined) figures.conns = c.activeConns;
    if (this.keepIntervals) {
      this.intervals.push({
        start: Math.round(this.lastAt - this.startedAt) / 1000,
        len: figures.len,
        histogram: encodeHistogram(interval),
      });
    }
    if (count > 0) total.add(interval);
    interval.reset();
    this.last = { sent: c.sent, replies: c.replies, errorCount: c.errorCount, mismatches: c.mismatches };
    this.lastAt = now;
    this.seconds.push(figures);
    if (this.seconds.length > MAX_SECONDS_KEPT) this.seconds.shift();
    return figures;
  }
}

/**
 * Workers' seconds side by side: the i-th second of each is summed (workers start
 * together); the percentiles are the worst worker's, as a bound.
 */
export function mergeSeconds(parts: readonly (readonly SecondFigures[])[]): SecondFigures[] {
  return sideBySide(parts).map((row) => {
    const sum = (pick: (x: SecondFigures) => number) => row.reduce((a, x) => a + pick(x), 0);
    const max = (pick: (x: SecondFigures) => number) => Math.max(...row.map(pick));
    return {
      t: max((x) => x.t),
      len: max((x) => x.len),
      sent: sum((x) => x.sent),
      replies: sum((x) => x.replies),
      errors: sum((x) => x.errors),
      mismatches: sum((x) => x.mismatches),
      p50: max((x) => x.p50),
      p99: max((x) => x.p99),
      ...(row.some((x) => x.conns !== undefined) ? { conns: sum((x) => x.conns ?? 0) } : {}),
    };
  });
}

/** Workers' interval histograms, the i-th of each added together (HDR add: exact). */
export function mergeIntervals(parts: readonly (readonly LoggedInterval[])[]): LoggedInterval[] {
  return sideBySide(parts).map((row) => ({
    start: Math.min(...row.map((x) => x.start)),
    len: Math.max(...row.map((x) => x.len)),
    histogram: encodeHistogram(mergeHistograms(row.map((x) => x.histogram))),
  }));
}

/** Row i holds the i-th entry of each part that has one (a worker may have run a second fewer). */
function sideBySide<T>(parts: readonly (readonly T[])[]): T[][] {
  const n = Math.max(0, ...parts.map((p) => p.length));
  const rows: T[][] = [];
  for (let i = 0; i < n; i++) rows.push(parts.flatMap((p) => p.slice(i, i + 1)));
  return rows;
}
