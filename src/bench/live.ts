// While a run goes: on a terminal the progress line (rewritten in place) with the
// last second's rate, p50, p99 and errors; with --json-stream one JSON line per
// second on stdout, for a CI log or a dashboard.
import { everyTick, type TickTask } from "../core/ticker.js";
import type { ProgressSnapshot } from "./recorder.js";
import type { ProgressLine } from "./report.js";
import type { SecondFigures } from "./seconds.js";

/** How often the last second is looked at: a new one is shown once. */
const POLL_MS = 200;

export class LiveReport {
  private task: TickTask | undefined;
  private lastT = -1;

  constructor(
    private readonly line: ProgressLine | undefined,
    private readonly stream: NodeJS.WritableStream | undefined,
  ) {}

  start(progress: () => ProgressSnapshot): void {
    if (this.line === undefined && this.stream === undefined) return;
    this.task = everyTick(POLL_MS, () => {
      const p = progress();
      const second = p.second;
      if (second === undefined || second.t === this.lastT) return;
      this.lastT = second.t;
      this.line?.update(p);
      this.stream?.write(`${JSON.stringify({ type: "second", ...second, totalReplies: p.replies })}\n`);
    });
  }

  stop(): void {
    this.task?.stop();
    this.line?.clear();
  }

  /**
   * After the run: the seconds the stream has not shown yet, from the result (the short
   * last one, and one that ended just before it, between two looks).
   */
  finish(seconds: readonly SecondFigures[] | undefined, totalReplies: number): void {
    if (this.stream === undefined) return;
    for (const second of seconds ?? []) {
      if (second.t <= this.lastT) continue;
      this.lastT = second.t;
      this.stream.write(`${JSON.stringify({ type: "second", ...second, totalReplies })}\n`);
    }
  }
}
