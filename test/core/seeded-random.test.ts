// The one seeded generator behind bench's ctx.random() and /bytes?seed=: a seed gives the
// same sequence on every run and every version (replaying a run or a download depends on it).
import { describe, expect, it } from "vitest";
import { Context, Steps } from "../../src/bench/script/context.js";
import { seededBytes } from "../../src/services/http/routes/bytes.js";

describe("seeded random", () => {
  it("a bench user's ctx.random() with --seed 42 starts with the same numbers as ever", () => {
    const ctx = new Context(0, 42, new Steps(), () => true);
    expect([ctx.random(), ctx.random(), ctx.random()]).toEqual([
      0.4813160905614495, 0.9852536325342953, 0.7379171899519861,
    ]);
  });

  it("/bytes/N?seed= bytes are the same as ever", () => {
    expect(seededBytes(8, 1).toString("hex")).toBe("f3c9ebfd2b30f05c");
    expect(seededBytes(8, 1234567890).toString("hex")).toBe("722712b1d30702b7");
  });
});
