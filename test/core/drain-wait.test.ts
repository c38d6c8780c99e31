import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { closeListener, type Emptying, emptiedWithin, untilEmpty } from "../../src/core/drain-wait.js";

/** A set of pending things that calls the registered callback when the last one goes. */
function pending(n: number): Emptying & { settle(): void } {
  let left = n;
  let done: (() => void) | undefined;
  return {
    isEmpty: () => left === 0,
    whenEmpty: (d) => {
      done = d;
    },
    settle() {
      left--;
      if (left === 0) done?.();
    },
  };
}

describe("the drain's waits", () => {
  it("emptiedWithin: true at once when already empty, true when emptied in time, false at the timeout", async () => {
    expect(await emptiedWithin(pending(0), 10_000)).toBe(true);
    const two = pending(2);
    setTimeout(() => two.settle(), 10);
    setTimeout(() => two.settle(), 30);
    const started = Date.now();
    expect(await emptiedWithin(two, 10_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    const stuck = pending(1);
    const t0 = Date.now();
    expect(await emptiedWithin(stuck, 100)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    setTimeout(() => stuck.settle(), 10);
    await untilEmpty(stuck);
    expect(stuck.isEmpty()).toBe(true);
  });

  it("closeListener resolves once the listener is closed, and at once for one not listening", async () => {
    const server = createServer();
    await closeListener(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    expect(server.listening).toBe(true);
    await closeListener(server);
    expect(server.listening).toBe(false);
  });
});
