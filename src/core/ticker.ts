// One process-wide timer for every periodic check: the engine's idle and line sweep,
// HTTP's lingering sockets, chat's password deadlines. Each task runs at its own
// period; the timer fires at the shortest one and ticks the coarse clock the hot path
// reads, so a process with many servers still has one timer, not one per feature.
import { tickClock } from "./clock.js";

/** A periodic task on the shared ticker; stop() removes it (safe to call twice). */
export interface TickTask {
  stop(): void;
}

interface Entry {
  periodMs: number;
  due: number;
  run: (now: number) => void;
}

/** The ticker never fires more often than this, whatever a task asks. */
const MIN_PERIOD_MS = 20;

const entries = new Set<Entry>();
let timer: NodeJS.Timeout | undefined;
let timerPeriod = 0;

/**
 * Runs `run(now)` about every `periodMs` (at least 20 ms) until stopped. `now` is the
 * freshly ticked coarse clock. The timer is unref'd: a task never keeps a process alive.
 */
export function everyTick(periodMs: number, run: (now: number) => void): TickTask {
  const now = tickClock();
  const entry: Entry = { periodMs: Math.max(MIN_PERIOD_MS, Math.floor(periodMs)), due: 0, run };
  entry.due = now + entry.periodMs;
  entries.add(entry);
  rearm();
  return {
    stop() {
      if (entries.delete(entry)) rearm();
    },
  };
}

/** Starts, restarts (the shortest period changed) or stops the one timer. */
function rearm(): void {
  let shortest = Number.POSITIVE_INFINITY;
  for (const entry of entries) shortest = Math.min(shortest, entry.periodMs);
  if (shortest === timerPeriod) return;
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  timerPeriod = 0;
  if (shortest === Number.POSITIVE_INFINITY) return;
  timerPeriod = shortest;
  timer = setInterval(tick, shortest);
  timer.unref();
}

function tick(): void {
  const now = tickClock();
  for (const entry of entries) {
    if (now < entry.due) continue;
    // Late ticks (a busy loop) run once, not once per missed period.
    entry.due = now + entry.periodMs;
    entry.run(now);
  }
}

/** Tasks on the ticker now (tests check that stopped servers leave none behind). */
export function activeTickTasks(): number {
  return entries.size;
}
