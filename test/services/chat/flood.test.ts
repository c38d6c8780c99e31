import { describe, expect, it } from "vitest";
import { FloodControl, type FloodVerdict } from "../../../src/services/chat/flood.js";

describe("FloodControl", () => {
  const limits = { rate: 5, burst: 10, disconnectAfter: 20 };

  it("lets a burst through, then the rate", () => {
    const bucket = new FloodControl(limits, 0);
    const first = Array.from({ length: 12 }, () => bucket.take(0));
    expect(first.filter((v) => v === "pass")).toHaveLength(10);
    expect(first.slice(10)).toEqual(["drop", "drop"]);
    expect(bucket.take(200)).toBe("pass"); // one token per 200 ms at 5/s
    expect(bucket.take(200)).toBe("drop");
    // A full refill after a quiet spell, never more than the burst.
    const later = Array.from({ length: 11 }, () => bucket.take(60_000));
    expect(later.filter((v) => v === "pass")).toHaveLength(10);
  });

  it("disconnects after sustained flooding, not after a short burst", () => {
    const bucket = new FloodControl(limits, 0);
    const verdicts: FloodVerdict[] = [];
    for (let i = 0; i < 30; i++) verdicts.push(bucket.take(0));
    expect(verdicts.filter((v) => v === "drop")).toHaveLength(20);
    expect(verdicts).not.toContain("disconnect");
    // Strikes decay at 1/s: 30 s later a flood starts from a clean slate.
    const t = 30_000;
    expect(bucket.take(t)).toBe("pass");
    let verdict: FloodVerdict = "pass";
    let n = 0;
    for (; verdict !== "disconnect" && n < 100; n++) verdict = bucket.take(t);
    expect(verdict).toBe("disconnect");
    expect(n).toBe(9 + 21); // the tokens left, then more than 20 drops
  });

  it("passes everything at rate 0", () => {
    const bucket = new FloodControl({ rate: 0, burst: 0, disconnectAfter: 1 }, 0);
    for (let i = 0; i < 1000; i++) expect(bucket.take(0)).toBe("pass");
  });
});
