import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lines } from "../../src/codecs/lines.js";
import { cut, cutPoints, decodeAll, lineBytes, type Outcome } from "./split.js";

function decode(chunks: Buffer[], maxLength: number, onPush?: (buffered: number) => void): Outcome {
  return decodeAll(lines({ maxLength }), chunks, "latin1", onPush);
}

/** The specification, written the slow and obvious way. */
function reference(input: Buffer, maxLength: number): Outcome {
  const messages: string[] = [];
  const text = input.toString("latin1");
  const parts = text.split("\n");
  const last = parts.pop()!;
  const all = last === "" ? parts : [...parts, last];
  for (const raw of all) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.length > maxLength) return { messages, error: "ERR_LINE_TOO_LONG" };
    messages.push(line);
  }
  return { messages };
}

describe("lines codec (properties)", () => {
  it("any stream split anywhere decodes to the same messages as the whole stream, and as the spec", () => {
    fc.assert(
      fc.property(lineBytes, cutPoints, fc.integer({ min: 1, max: 80 }), (input, points, max) => {
        const whole = decode([input], max);
        expect(decode(cut(input, points), max)).toEqual(whole);
        expect(whole).toEqual(reference(input, max));
      }),
      { numRuns: 2000 },
    );
  });

  it("throws nothing but ERR_LINE_TOO_LONG, for any bytes and any limit", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        cutPoints,
        fc.integer({ min: 1, max: 3000 }),
        (bytes, points, max) => {
          const out = decode(cut(Buffer.from(bytes), points), max);
          if (out.error !== undefined) expect(out.error).toBe("ERR_LINE_TOO_LONG");
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("never buffers more than the limit + 1 byte (the CR), checked after every chunk", () => {
    fc.assert(
      fc.property(lineBytes, cutPoints, fc.integer({ min: 1, max: 64 }), (input, points, max) => {
        decode(cut(input, points), max, (buffered) => expect(buffered).toBeLessThanOrEqual(max + 1));
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses an endless line without ever holding more than the limit", () => {
    const max = 1024;
    let peak = 0;
    const codec = lines({ maxLength: max }).create(() => {});
    const chunk = Buffer.alloc(100, 0x61);
    expect(() => {
      for (let i = 0; i < 1_000_000; i++) {
        codec.push(chunk);
        peak = Math.max(peak, codec.bufferedBytes);
      }
    }).toThrow(/line exceeds 1024 bytes/);
    expect(peak).toBeLessThanOrEqual(max + 1);
  });

  it("encode then decode returns the messages (LF and CRLF)", () => {
    const message = fc
      .uint8Array({ maxLength: 100 })
      .map((a) => Buffer.from(a.map((b) => (b === 0x0a ? 0x20 : b))))
      // A line cannot end in CR: the decoder strips it as part of CRLF.
      .filter((b) => b.length === 0 || b[b.length - 1] !== 0x0d);
    fc.assert(
      fc.property(fc.array(message, { maxLength: 20 }), fc.boolean(), cutPoints, (msgs, crlf, points) => {
        const codec = lines({ maxLength: 200 }).create(() => {});
        if (crlf) codec.push(Buffer.from("x\r\n")); // replies follow the peer's line ending
        const out: Buffer[] = [];
        for (const m of msgs) codec.encode(out, m);
        const wire = Buffer.concat(out);
        if (crlf) expect(wire.includes("\r\n") || msgs.length === 0).toBe(true);
        const got = decode(cut(wire, points), 200);
        expect(got.messages).toEqual(msgs.map((m) => m.toString("latin1")));
      }),
      { numRuns: 1000 },
    );
  });
});
