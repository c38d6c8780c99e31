// Merging workers' per-second figures: the i-th second of each worker side by side,
// with a worker that ran a second fewer than the other.
import { describe, expect, it } from "vitest";
import { mergeSeconds, type SecondFigures } from "../../src/bench/seconds.js";

const second = (t: number, sent: number, p99: number, conns?: number): SecondFigures => ({
  t,
  len: 1,
  sent,
  replies: sent,
  errors: 0,
  mismatches: 0,
  p50: p99 / 2,
  p99,
  ...(conns === undefined ? {} : { conns }),
});

describe("mergeSeconds", () => {
  it("sums counts and keeps the worst percentiles second by second, the longer worker alone at the end", () => {
    const merged = mergeSeconds([
      [second(1, 100, 8, 2), second(2, 120, 6, 2), second(3, 50, 4, 2)],
      [second(1.1, 90, 10), second(2.1, 80, 5)],
    ]);
    expect(merged.map((s) => [s.t, s.sent, s.replies, s.p99, s.conns])).toEqual([
      [1.1, 190, 190, 10, 2],
      [2.1, 200, 200, 6, 2],
      [3, 50, 50, 4, 2],
    ]);
    expect(mergeSeconds([[], []])).toEqual([]);
  });
});
