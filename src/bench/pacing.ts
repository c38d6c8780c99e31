// How many requests may still be sent (the run's budget), and the open-loop
// pacer that sends at a constant rate whatever the server does, stamping each
// request with its intended send time so that latency includes queueing delay
// (no coordinated omission).
import { performance } from "node:perf_hooks";
import type { StopRule } from "./options.js";

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

/**
 * Calls `issue(intendedAt)` for request i at startAt + i/rate, in batches once per
 * timer tick, then `flush()`; stops when the budget is spent. Returns a stop function.
 */
export function startPacer(
  rate: number,
  budget: Budget,
  startAt: number,
  issue: (intendedAt: number) => void,
  flush: () => void,
): () => void {
  const interval = 1000 / rate;
  let issued = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const due = Math.floor((now - startAt) / interval) + 1;
    while (issued < due) {
      const at = startAt + issued * interval;
      if (!budget.take(at)) {
        clearInterval(timer);
        break;
      }
      issued++;
      issue(at);
    }
    flush();
  }, PACER_TICK_MS);
  return () => clearInterval(timer);
}
