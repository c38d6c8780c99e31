// Counters of one run in one process: what was sent and answered, what failed,
// and the latency histogram of the replies inside the measured window.
import { performance } from "node:perf_hooks";
import { everyTick, type TickTask } from "../core/ticker.js";
import { createHistogram, encodeHistogram, type Histogram, recordMs, summarize } from "./histogram.js";
import type { BenchMode, StopRule } from "./options.js";
import { type BenchResult, type ErrorCounts, perReply } from "./result.js";
import { type SecondFigures, SecondRoller } from "./seconds.js";

/** Cumulative counters, read by the live progress line, and the last whole second. */
export interface ProgressSnapshot {
  replies: number;
  errors: number;
  mismatches: number;
  /** The last second's figures (absent before the first second ends). */
  second?: SecondFigures;
}

/** What a recorder keeps beyond the totals. */
export interface RecorderOptions {
  /** Keep each second's histogram for --hdr-log. */
  intervals?: boolean;
  /** Open loop: also record latency from the actual send (uncorrected for coordinated omission). */
  uncorrected?: boolean;
}

type ReplyOutcome = "ok" | "mismatch" | "failed";

const MAX_MISMATCH_SAMPLE = 200;
const ROLL_CHECK_MS = 50;

export class Recorder {
  sent = 0;
  replies = 0;
  ok = 0;
  mismatches = 0;
  errorCount = 0;
  readonly errors: ErrorCounts = {};
  firstMismatch: string | undefined;
  /** Replies, their bytes and sends inside the window. */
  measured = 0;
  measuredBytes = 0;
  measuredSent = 0;
  /** The measured window's latency: each second's `interval` is added to it. */
  readonly histogram: Histogram = createHistogram();
  private readonly interval: Histogram = createHistogram();
  /** Open loop: latency from the actual send, which hides queueing behind a late send. */
  readonly uncorrected: Histogram | undefined;
  private readonly roller: SecondRoller;
  private readonly ticking: TickTask;
  private lastSecond: SecondFigures | undefined;
  /** performance.now() of the run's start, of the window's start and end. */
  readonly startedAt: number;
  readonly windowStart: number;
  windowEnd: number;
  /** Set when the run was stopped early (Ctrl-C): the window ends there. */
  private haltedAt: number | undefined;
  /** Closed loop with --ramp-conns / --conn-stages: connections carrying load now. */
  activeConns: number | undefined;
  /** When the last reply came (requests mode measures up to it). */
  lastReplyAt = 0;
  private readonly cpuAtStart = process.cpuUsage();
  /**
   * CPU time (us) when the first reply inside the window came and when the first reply
   * after it came: the steady state, without start-up, JIT warm-up and teardown, as the
   * harness loadgen measures its own CPU.
   */
  private windowCpuFrom = -1;
  private windowCpuTo = -1;

  constructor(
    readonly stop: StopRule,
    options: RecorderOptions = {},
  ) {
    this.startedAt = performance.now();
    this.uncorrected = options.uncorrected === true ? createHistogram() : undefined;
    this.roller = new SecondRoller(this.startedAt, options.intervals === true);
    // Looked at often and rolled when a second is up: a 1 s ticker whose tick lands just
    // before the second ends would wait a whole period and make a 2 s bucket.
    this.ticking = everyTick(ROLL_CHECK_MS, () => {
      if (this.roller.due(performance.now())) this.roll();
    });
    if (stop.kind === "duration") {
      this.windowStart = this.startedAt + stop.warmupMs;
      this.windowEnd = this.windowStart + stop.durationMs;
    } else {
      this.windowStart = this.startedAt;
      this.windowEnd = Number.POSITIVE_INFINITY;
    }
  }

  inWindow(now: number): boolean {
    return now >= this.windowStart && now < this.windowEnd;
  }

  onSent(now: number): void {
    this.sent++;
    if (now >= this.windowStart && now < this.windowEnd) this.measuredSent++;
  }

  /**
   * A reply arrived `latencyMs` after its (intended) send. `outcome`: verified, wrong
   * (a mismatch), or a failure the caller counts under its own error kind.
   */
  onReply(now: number, latencyMs: number, bytes: number, outcome: ReplyOutcome, uncorrectedMs = -1): void {
    this.replies++;
    this.lastReplyAt = now;
    if (outcome === "ok") this.ok++;
    else if (outcome === "mismatch") this.mismatches++;
    if (now >= this.windowStart && now < this.windowEnd) {
      if (this.measured === 0) this.windowCpuFrom = this.cpuUs();
      this.measured++;
      this.measuredBytes += bytes;
      recordMs(this.interval, latencyMs);
      if (uncorrectedMs >= 0 && this.uncorrected !== undefined) recordMs(this.uncorrected, uncorrectedMs);
    } else if (this.windowCpuTo < 0 && this.measured > 0) {
      this.windowCpuTo = this.cpuUs();
    }
  }

  /** A reply that answers no request this run sent (a message transport matches by content, not order). */
  unmatched(describe: () => string): void {
    this.replies++;
    this.mismatches++;
    this.mismatch(describe);
  }

  mismatch(describe: () => string): void {
    if (this.firstMismatch === undefined) this.firstMismatch = describe().slice(0, MAX_MISMATCH_SAMPLE);
  }

  error(kind: string): void {
    this.errorCount++;
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  progress(): ProgressSnapshot {
    const p: ProgressSnapshot = {
      replies: this.replies,
      errors: this.errorCount,
      mismatches: this.mismatches,
    };
    if (this.lastSecond !== undefined) p.second = this.lastSecond;
    return p;
  }

  /** Closes the current second (the ticker calls it; result() closes the last, short one). */
  private roll(): void {
    this.lastSecond =
      this.roller.roll(performance.now(), this, this.interval, this.histogram) ?? this.lastSecond;
  }

  /** CPU time of this process since the run started, in microseconds. */
  cpuUs(): number {
    const used = process.cpuUsage(this.cpuAtStart);
    return used.user + used.system;
  }

  /** CPU time of this process since the run started, in percent of one core. */
  cpuPercent(): number {
    const wallMs = performance.now() - this.startedAt;
    return wallMs > 0 ? Math.round(this.cpuUs() / 10 / wallMs) : 0;
  }

  /** Ends the measured window now (the run was interrupted). */
  halt(now: number): void {
    if (this.haltedAt !== undefined) return;
    this.haltedAt = now;
    if (now < this.windowEnd) this.windowEnd = now;
  }

  /** Seconds the throughput is measured over. */
  seconds(): number {
    if (this.stop.kind === "duration") {
      if (this.haltedAt === undefined) return this.stop.durationMs / 1000;
      return Math.max(0, this.windowEnd - this.windowStart) / 1000;
    }
    return Math.max(0, this.lastReplyAt - this.startedAt) / 1000;
  }

  result(base: {
    mode: BenchMode;
    transport: string;
    target: string;
    conns: number;
    pipeline: number;
    rate: number;
  }): BenchResult {
    this.ticking.stop();
    this.roll();
    const seconds = this.seconds();
    const per = (n: number) => (seconds > 0 ? n / seconds : 0);
    // Read once: two reads differ by the CPU spent between them, and cpuUsPerReply must be cpuUs / replies.
    const cpuUs = this.cpuUs();
    const windowCpuUs =
      this.measured === 0 ? 0 : (this.windowCpuTo < 0 ? cpuUs : this.windowCpuTo) - this.windowCpuFrom;
    const result: BenchResult = {
      ...base,
      workers: 1,
      seconds: Math.round(seconds * 1000) / 1000,
      sent: this.sent,
      replies: this.replies,
      ok: this.ok,
      mismatches: this.mismatches,
      lost: Math.max(0, this.sent - this.replies),
      measured: this.measured,
      msgsPerSec: Math.round(per(this.measured)),
      // To 100 B/s: small replies on a slow run must not round to 0 MB/s.
      mbPerSec: Math.round(per(this.measuredBytes) / 100) / 1e4,
      sentPerSec: Math.round(per(this.measuredSent)),
      latencyUs: summarize(this.histogram),
      errors: { ...this.errors },
      cpuPercent: this.cpuPercent(),
      cpuUs,
      cpuUsPerReply: perReply(cpuUs, this.replies),
      windowCpuUs,
      windowCpuUsPerReply: perReply(windowCpuUs, this.measured),
      histogram: encodeHistogram(this.histogram),
      perSecond: this.roller.seconds,
    };
    if (this.uncorrected !== undefined) {
      result.uncorrectedUs = summarize(this.uncorrected);
      result.uncorrectedHistogram = encodeHistogram(this.uncorrected);
    }
    if (this.roller.intervals.length > 0) result.intervals = this.roller.intervals;
    if (this.firstMismatch !== undefined) result.firstMismatch = this.firstMismatch;
    return result;
  }
}
