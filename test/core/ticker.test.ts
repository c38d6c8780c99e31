import { describe, expect, it } from "vitest";
import { coarseClock } from "../../src/core/clock.js";
import { activeTickTasks, everyTick } from "../../src/core/ticker.js";

function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > until) reject(new Error("condition not met in time"));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe("the shared ticker", () => {
  it("runs each task at its own period on one timer, with the ticked coarse clock, until stopped", async () => {
    const before = activeTickTasks();
    const fast: number[] = [];
    const slow: number[] = [];
    const a = everyTick(20, (now) => fast.push(now));
    const b = everyTick(200, (now) => slow.push(now));
    expect(activeTickTasks()).toBe(before + 2);
    await waitFor(() => slow.length >= 2);
    // The fast task ran about ten times per slow run; the slow one never early.
    expect(fast.length).toBeGreaterThan(slow.length * 3);
    expect(slow[1]! - slow[0]!).toBeGreaterThanOrEqual(200);
    expect(coarseClock.now).toBeGreaterThanOrEqual(slow[1]!);
    a.stop();
    a.stop();
    const ranFast = fast.length;
    await waitFor(() => slow.length >= 3);
    expect(fast.length).toBe(ranFast);
    b.stop();
    expect(activeTickTasks()).toBe(before);
  });
});
