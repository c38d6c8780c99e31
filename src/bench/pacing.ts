// How many requests may still be sent (the run's budget), and the open-loop
// pacer that sends at a constant rate whatever the server does, stamping each
// request with its intended send time so that latency includes queueing delay
// (no coordinated omission).
import { performance } from "node:perf_hooks";
import type { StopRule } from "./options.js";
import { constantSchedule, type Schedule, type Stage, stagesSchedule } from "./stages.js";

export class Budget {
  private remaining: number;
  private deadline: number;

  constructor(stop: StopRule, windowEnd: number) {
    this.remaining = stop.kind === "requests" ? stop.count : Number.POSITIVE_INFINITY;
    this.deadline = stop.kind === "duration" ? windowEnd : Number.POSITIVE_INFINITY;
  }

  /** Takes one request from the budget if a request (intended) at `at` may still go out. */
  take(at: number): boolean {
    if (at >= this.deadline || this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }

  /** Sends nothing more from now on. */
  halt(now: number): void {
    this.deadline = Math.min(this.deadline, now);
    this.remaining = 0;
  }

  /** No more requests will be sent. */
  spent(now: number): boolean {
    return now >= this.deadline || this.remaining <= 0;
  }
}

/** Timer resolution of the pacer; requests due in between go out together. */
const PACER_TICK_MS = 1;

/** The pacer's input: a constant rate per second, or a shape (--stages). */
export type Pace = number | Schedule;

/**
 * Calls `issue(intendedAt, now)` for request i at its due time (startAt + i/rate, or
 * where the stages put it), in batches once per timer tick, then `flush()`; stops when
 * the budget is spent. `now` is when the batch goes out: later than intendedAt by the
 * timer's lag, which the uncorrected latency leaves out. Returns a stop function.
 */
export function startPacer(
  pace: Pace,
  budget: Budget,
  startAt: number,
  issue: (intendedAt: number, now: number) => void,
  flush: () => void,
): () => void {
  const schedule = typeof pace === "number" ? constantSchedule(pace) : pace;
  let issued = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const due = Math.floor(schedule.dueBy(now - startAt)) + 1;
    while (issued < due) {
      const at = startAt + schedule.timeOf(issued);
      if (!budget.take(at)) {
        clearInterval(timer);
        break;
      }
      issued++;
      issue(at, now);
    }
    flush();
  }, PACER_TICK_MS);
  return () => clearInterval(timer);
}

/** What the pacer follows for these options: their stages, else their constant rate. */
export function paceOf(options: { rate: number; stages?: readonly Stage[] }): Pace {
  return options.stages !== undefined && options.stages.length > 0
    ? stagesSchedule(options.stages)
    : options.rate;
}
