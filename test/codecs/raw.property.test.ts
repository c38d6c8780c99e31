import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { raw } from "../../src/codecs/raw.js";
import { cut, cutPoints } from "./split.js";

describe("raw codec (properties)", () => {
  it("delivers exactly the bytes received, in order, however they are split; never buffers or throws", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), cutPoints, (bytes, points) => {
        const input = Buffer.from(bytes);
        const got: Buffer[] = [];
        const codec = raw().create((p) => got.push(Buffer.from(p)));
        for (const c of cut(input, points)) {
          codec.push(c);
          expect(codec.bufferedBytes).toBe(0);
        }
        codec.end();
        expect(Buffer.concat(got).equals(input)).toBe(true);
        expect(got.every((c) => c.length > 0)).toBe(true);
        const out: Buffer[] = [];
        expect(codec.encode(out, input)).toBe(input.length);
        expect(Buffer.concat(out).equals(input)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
