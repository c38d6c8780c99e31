import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFrame, lengthPrefixed } from "../../src/codecs/length-prefixed.js";
import { EchoplexError } from "../../src/errors.js";
import { cut, cutPoints, decodeAll, type Outcome } from "./split.js";

function decode(chunks: Buffer[], maxLength: number, onPush?: (buffered: number) => void): Outcome {
  return decodeAll(lengthPrefixed({ maxLength }), chunks, "hex", onPush);
}

/** The specification: header, body, repeat; a cut-off frame at the end is dropped. */
function reference(input: Buffer, maxLength: number): Outcome {
  const messages: string[] = [];
  let off = 0;
  while (input.length - off >= 4) {
    const length = input.readUInt32BE(off);
    if (length > maxLength) return { messages, error: "ERR_FRAME_TOO_LARGE" };
    if (input.length - off - 4 < length) break;
    messages.push(input.subarray(off + 4, off + 4 + length).toString("hex"));
    off += 4 + length;
  }
  return { messages };
}

const payload = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
/** Well-formed frames, optionally followed by garbage (which may claim any length). */
const stream = fc
  .tuple(fc.array(payload, { maxLength: 10 }), fc.uint8Array({ maxLength: 12 }))
  .map(([frames, tail]) => Buffer.concat([...frames.map((f) => encodeFrame(f)), Buffer.from(tail)]));

describe("length-prefixed codec (properties)", () => {
  it("any stream split anywhere decodes to the same frames as the whole stream, and as the spec", () => {
    fc.assert(
      fc.property(stream, cutPoints, fc.integer({ min: 0, max: 400 }), (input, points, max) => {
        const whole = decode([input], max);
        expect(decode(cut(input, points), max)).toEqual(whole);
        expect(whole).toEqual(reference(input, max));
      }),
      { numRuns: 2000 },
    );
  });

  it("throws nothing but ERR_FRAME_TOO_LARGE for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), cutPoints, fc.nat(5000), (bytes, points, max) => {
        const out = decode(cut(Buffer.from(bytes), points), max);
        if (out.error !== undefined) expect(out.error).toBe("ERR_FRAME_TOO_LARGE");
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects an over-limit length from the header alone, before any body byte", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.nat(1 << 20), (claimed, max) => {
        fc.pre(claimed > max);
        const header = Buffer.alloc(4);
        header.writeUInt32BE(claimed);
        expect(decode([header], max).error).toBe("ERR_FRAME_TOO_LARGE");
      }),
    );
    const fourGiB = Buffer.from([0xff, 0xff, 0xff, 0xff]);
    expect(() =>
      lengthPrefixed()
        .create(() => {})
        .push(fourGiB),
    ).toThrow("frame of 4294967295 bytes exceeds 65536 bytes");
  });

  it("buffers no more than the bytes received for the current frame (never the claimed length)", () => {
    fc.assert(
      fc.property(stream, cutPoints, (input, points) => {
        let fed = 0;
        const chunks = cut(input, points);
        const messages: number[] = [];
        const codec = lengthPrefixed({ maxLength: 1 << 20 }).create((p) => messages.push(p.length));
        try {
          for (const c of chunks) {
            codec.push(c);
            fed += c.length;
            expect(codec.bufferedBytes).toBeLessThanOrEqual(fed);
            expect(codec.bufferedBytes).toBeLessThanOrEqual((1 << 20) + 4);
          }
        } catch (err) {
          expect(EchoplexError.is(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("encode then decode returns the payloads, with and without a prefix", () => {
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 20 }), payload, cutPoints, (msgs, prefix, points) => {
        const codec = lengthPrefixed({ maxLength: 1000 }).create(() => {});
        const out: Buffer[] = [];
        for (const m of msgs) codec.encode(out, m, prefix);
        const got = decode(cut(Buffer.concat(out), points), 1000);
        expect(got).toEqual({ messages: msgs.map((m) => Buffer.concat([prefix, m]).toString("hex")) });
      }),
      { numRuns: 1000 },
    );
  });
});
