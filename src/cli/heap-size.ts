// Keeps a server process's memory near what it holds, not what a busy spell once needed.
//
// Why: V8 grows its young generation (two semi-spaces, 1 → 16 MiB each) while a server is
// busy — thousands of connections opening at once, a chat burst, large messages — and keeps
// those pages while the process idles. That growth was most of a connection's RSS at 10,000
// idle connections (5.6 KB each, 3.4 KB without it) and of a chat server's RSS after a burst.
// Two remedies, chosen per V8 by measurement (docs/BENCHMARKS.md, "The young generation"):
// - V8 ≥ 12 (Node ≥ 22): V8 keeps its sizes while busy, and once the event loop has been
//   nearly idle for two intervals after the heap grew, one memory-reducing collection (the
//   "last resort" flavour; at most one in 30 s) shrinks the young generation and returns
//   the pages. Holding
//   it small instead cost up to 5 × the CPU per message with 4 KiB messages on Node 24.
// - V8 11 (Node 20): that collection does not shrink the young generation, so it is held at
//   its starting size (--semi-space-growth-factor=1; V8 reads the flag at each resize).
//   There, holding it cost no CPU per message with 4 KiB messages (it saved some).
// A user who sizes the young generation themselves (a node flag, NODE_OPTIONS) keeps their
// choice, and neither is done: that is also how to turn this off. Bun runs JavaScriptCore, which none of this describes: nothing is done there.
import { performance } from "node:perf_hooks";
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** How often the event loop's utilisation is read. */
const TRIM_CHECK_MS = 2000;
/**
 * Below this event-loop utilisation over a whole interval, the server is idle. Not lower:
 * a monitor scraping /metrics twice a second, or a status page open, keeps a loaded machine's
 * idle server at 1–3 %, and the trim must still happen then. Its pause (about 0.1 s at a
 * 40 MiB heap) lands on a server doing almost nothing.
 */
const IDLE_UTILISATION = 0.05;
/** Idle for this many intervals in a row: a lull between bursts of traffic is not idle. */
const IDLE_INTERVALS = 2;
/**
 * At most one trim in this long: light, steady traffic regrows the young generation, and
 * must not turn the trim into a pause every few seconds.
 */
const MIN_TRIM_GAP_MS = 30_000;
/** Growth since the last trim (of the heap's pages or the young generation) worth a pause. */
const GROWTH_WORTH_TRIMMING = 8 * 1024 * 1024;

/** The V8 flags that size the young generation: if the user gave one, theirs stands. */
const USER_FLAGS = /--(max-|min-)?semi-space-(size|growth-factor)/;

export type HeapPolicy = "trim-when-idle" | "hold-young-generation" | "none";

/** True when this process was started with its own young-generation flag. */
function userSizedYoungGeneration(): boolean {
  return (
    process.execArgv.some((arg) => USER_FLAGS.test(arg)) || USER_FLAGS.test(process.env.NODE_OPTIONS ?? "")
  );
}

/** What this runtime gets (see the module comment for why). */
export function heapPolicy(): HeapPolicy {
  if (process.versions.bun !== undefined || userSizedYoungGeneration()) return "none";
  return Number(process.versions.v8.split(".")[0]) >= 12 ? "trim-when-idle" : "hold-young-generation";
}

/** Applies this runtime's policy to a server process; returns it. */
export function keepServerHeapSmall(): HeapPolicy {
  const policy = heapPolicy();
  if (policy === "hold-young-generation") setFlagsFromString("--semi-space-growth-factor=1");
  if (policy === "trim-when-idle") trimWhenIdle();
  return policy;
}

type Collect = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** What the trim looks at: the whole heap's pages, and the young generation's size. */
function heapNow(): { physical: number; young: number } {
  const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
  return { physical: getHeapStatistics().total_physical_size, young };
}

/** Starts the idle check, an unref'd timer (it never keeps the process alive). */
function trimWhenIdle(): void {
  // Exposes gc() to a new context only, not as a global of this one.
  setFlagsFromString("--expose-gc");
  const collect = runInNewContext("gc") as Collect;
  let previous = performance.eventLoopUtilization();
  let trimmedAt = heapNow();
  let lastTrim = Number.NEGATIVE_INFINITY;
  let idleIntervals = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const utilisation = performance.eventLoopUtilization(now, previous).utilization;
    previous = now;
    idleIntervals = utilisation > IDLE_UTILISATION ? 0 : idleIntervals + 1;
    if (idleIntervals < IDLE_INTERVALS || performance.now() - lastTrim < MIN_TRIM_GAP_MS) return;
    // Worth its pause when either grew by a few pages: the young generation's size (a rush of
    // short-lived allocations doubles it, touched or not) or the pages the heap holds.
    const heap = heapNow();
    const youngGrowth = heap.young - trimmedAt.young;
    if (youngGrowth < GROWTH_WORTH_TRIMMING && heap.physical - trimmedAt.physical < GROWTH_WORTH_TRIMMING)
      return;
    collect({ type: "major", execution: "sync", flavor: "last-resort" });
    trimmedAt = heapNow();
    lastTrim = performance.now();
    // The collection is not the server's work: the next interval is measured after it.
    previous = performance.eventLoopUtilization();
  }, TRIM_CHECK_MS);
  timer.unref();
}
