import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { syslogStream } from "../../src/codecs/syslog-stream.js";
import { cut, cutPoints, decodeAll, lineBytes, type Outcome } from "./split.js";

function decode(chunks: Buffer[], maxLength: number, onPush?: (buffered: number) => void): Outcome {
  return decodeAll(syslogStream({ maxLength }), chunks, "latin1", onPush);
}

const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;

/** RFC 6587 written the slow and obvious way: the first byte picks the framing. */
function reference(input: Buffer, max: number): Outcome {
  const messages: string[] = [];
  if (input.length === 0) return { messages };
  if (!isDigit(input[0])) {
    const parts = input.toString("latin1").split("\n");
    const last = parts.pop()!;
    for (const raw of last === "" ? parts : [...parts, last]) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.length > max) return { messages, error: "ERR_LINE_TOO_LONG" };
      messages.push(line);
    }
    return { messages };
  }
  let at = 0;
  for (;;) {
    while (input[at] === 0x0a || input[at] === 0x0d) at++;
    if (at >= input.length) return { messages };
    let count = 0;
    let digits = 0;
    while (isDigit(input[at])) {
      if (digits === 0 && input[at] === 0x30) return { messages, error: "ERR_SYSLOG_FRAME" };
      count = count * 10 + input[at]! - 0x30;
      digits++;
      at++;
      if (count > max) return { messages, error: "ERR_FRAME_TOO_LARGE" };
    }
    if (at >= input.length) {
      messages.push(String(count)); // a header cut off by the end: its digits, not lost
      return { messages };
    }
    if (input[at] !== 0x20 || digits === 0) return { messages, error: "ERR_SYSLOG_FRAME" };
    at++;
    const body = input.subarray(at, at + count);
    if (body.length > 0) messages.push(body.toString("latin1"));
    if (body.length < count) return { messages };
    at += count;
  }
}

const message = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a));
/** Octet-counted frames (some followed by a line break), then any tail. */
const counted = fc
  .tuple(fc.array(fc.tuple(message, fc.constantFrom("", "\n", "\r\n")), { maxLength: 8 }), lineBytes)
  .map(([frames, tail]) =>
    Buffer.concat([
      ...frames.flatMap(([m, after]) => [Buffer.from(`${m.length} `), m, Buffer.from(after)]),
      tail.subarray(0, 20),
    ]),
  )
  .filter((b) => b.length === 0 || isDigit(b[0]));
/** LF-framed syslog lines (the first byte `<`), then any bytes. */
const framedLines = lineBytes.map((b) => Buffer.concat([Buffer.from("<13>"), b]));

describe("syslog stream codec (properties)", () => {
  it("octet counting: any split decodes as the whole stream and as the spec", () => {
    fc.assert(
      fc.property(counted, cutPoints, fc.integer({ min: 1, max: 300 }), (input, points, max) => {
        const whole = decode([input], max);
        expect(decode(cut(input, points), max)).toEqual(whole);
        expect(whole).toEqual(reference(input, max));
      }),
      { numRuns: 2000 },
    );
  });

  it("LF framing: any split decodes as the whole stream and as the spec", () => {
    fc.assert(
      fc.property(framedLines, cutPoints, fc.integer({ min: 1, max: 80 }), (input, points, max) => {
        const whole = decode([input], max);
        expect(decode(cut(input, points), max)).toEqual(whole);
        expect(whole).toEqual(reference(input, max));
      }),
      { numRuns: 2000 },
    );
  });

  it("any bytes: the same as the spec, and no error but the codec's own", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        cutPoints,
        fc.integer({ min: 1, max: 3000 }),
        (bytes, points, max) => {
          const input = Buffer.from(bytes);
          const out = decode(cut(input, points), max);
          expect(out).toEqual(reference(input, max));
          if (out.error !== undefined) {
            expect(["ERR_LINE_TOO_LONG", "ERR_FRAME_TOO_LARGE", "ERR_SYSLOG_FRAME"]).toContain(out.error);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("never buffers more than the limit plus its header, checked after every chunk", () => {
    fc.assert(
      fc.property(counted, cutPoints, fc.integer({ min: 1, max: 300 }), (input, points, max) => {
        const header = String(max).length + 1;
        decode(cut(input, points), max, (buffered) => expect(buffered).toBeLessThanOrEqual(max + header));
      }),
      { numRuns: 1000 },
    );
  });

  it("encode then decode returns the messages, in the framing the peer chose", () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 10 }), cutPoints, (msgs, points) => {
        const codec = syslogStream({ maxLength: 300 }).create(() => {});
        codec.push(Buffer.from("5 hello")); // the peer counts octets: answers are counted too
        const out: Buffer[] = [];
        for (const m of msgs) codec.encode(out, m);
        const wire = Buffer.concat(out);
        expect(decode(cut(wire, points), 300).messages).toEqual(msgs.map((m) => m.toString("latin1")));
      }),
      { numRuns: 1000 },
    );
  });
});
