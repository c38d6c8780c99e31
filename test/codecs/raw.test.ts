import { describe, expect, it } from "vitest";
import { raw } from "../../src/codecs/raw.js";

describe("raw codec", () => {
  it("passes every chunk through unchanged", () => {
    const got: Buffer[] = [];
    const codec = raw().create((p) => got.push(p));
    codec.push(Buffer.from([0, 1, 2, 10, 13]));
    codec.push(Buffer.alloc(0));
    codec.push(Buffer.from("x"));
    codec.end();
    expect(got.map((b) => [...b])).toEqual([[0, 1, 2, 10, 13], [120]]);
    const out: Buffer[] = [];
    expect(codec.encode(out, Buffer.from("abc"))).toBe(3);
    expect(Buffer.concat(out).toString()).toBe("abc");
  });
});
