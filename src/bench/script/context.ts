// The `ctx` a scenario script gets: who it is (vu, iteration), a seeded random
// stream (the run's --seed: a run can be replayed), sleep, per-user state kept
// across iterations, and mark(name), which starts a named step whose latency goes
// into that step's own histogram.
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { mulberry32 } from "../../core/seeded-random.js";
import { createHistogram, type Histogram, recordMs } from "../histogram.js";

/** The step a script is in before its first mark. */
export const FIRST_STEP = "start";

export interface ScriptContext {
  /** This virtual user's index, from 0. */
  readonly vu: number;
  /** This user's iteration, from 0. */
  iteration: number;
  /** The run's seed (--seed); random() of every user derives from it. */
  readonly seed: number;
  /** Per-user state: whatever the script keeps between iterations. */
  readonly state: Record<string, unknown>;
  /** A number in [0, 1) from this user's seeded stream. */
  random(): number;
  sleep(ms: number): Promise<void>;
  /** Ends the current step (its time goes to its histogram) and starts `name`. */
  mark(name: string): void;
  /** The step in progress. */
  readonly step: string;
}

/** Step histograms shared by every user of the run. */
export class Steps {
  readonly histograms = new Map<string, Histogram>();

  record(name: string, ms: number): void {
    let h = this.histograms.get(name);
    if (h === undefined) {
      h = createHistogram();
      this.histograms.set(name, h);
    }
    recordMs(h, ms);
  }
}

/** Bounds of what a script may ask: no step name floods the result. */
const MAX_STEPS = 100;
const MAX_STEP_NAME = 64;

export class Context implements ScriptContext {
  iteration = 0;
  readonly state: Record<string, unknown> = {};
  readonly random: () => number;
  private current = FIRST_STEP;
  private stepStart = 0;
  private marked = false;

  constructor(
    readonly vu: number,
    readonly seed: number,
    private readonly steps: Steps,
    private readonly measuring: (now: number) => boolean,
  ) {
    // Mulberry32: small, fast, good enough for load scenarios, and reproducible from a seed.
    const next = mulberry32(seed ^ Math.imul(vu + 1, 0x9e3779b9));
    this.random = () => next() / 4294967296;
  }

  get step(): string {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return delay(Math.max(0, Math.min(ms, 3_600_000)));
  }

  mark(name: string): void {
    const now = performance.now();
    this.endStep(now);
    const clean = String(name).slice(0, MAX_STEP_NAME);
    this.current =
      this.steps.histograms.has(clean) || this.steps.histograms.size < MAX_STEPS ? clean : "other";
    this.stepStart = now;
    this.marked = true;
  }

  /** A new iteration: the first step again. */
  begin(now: number): void {
    this.current = FIRST_STEP;
    this.stepStart = now;
    this.marked = false;
  }

  /** The iteration ended well: its last named step is complete. */
  end(now: number): void {
    this.endStep(now);
    this.iteration++;
  }

  /** The iteration failed: its step is not recorded. */
  failed(): void {
    this.iteration++;
  }

  private endStep(now: number): void {
    // Time before the first mark is set-up, not a step the script named.
    if (this.marked && this.measuring(now)) this.steps.record(this.current, now - this.stepStart);
  }
}
