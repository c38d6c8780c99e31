import { describe, expect, it } from "vitest";
import { encodeFrame, lengthPrefixed } from "../../src/codecs/length-prefixed.js";
import { EchoplexError } from "../../src/errors.js";

function decode(chunks: Buffer[], maxLength?: number): string[] {
  const out: string[] = [];
  const codec = lengthPrefixed(maxLength === undefined ? {} : { maxLength }).create((p) =>
    out.push(p.toString()),
  );
  for (const c of chunks) codec.push(c);
  return out;
}

describe("length-prefixed codec", () => {
  const messages = ["hello", "", "wörld", "x".repeat(300)];
  const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));

  it("decodes frames, including empty ones", () => {
    expect(decode([stream])).toEqual(messages);
  });

  it("decodes the same frames at every split point and byte by byte", () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(decode([stream.subarray(0, i), stream.subarray(i)])).toEqual(messages);
    }
    for (let i = 0; i < 40; i++) {
      for (let j = i; j < 60; j++) {
        expect(decode([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])).toEqual(messages);
      }
    }
    expect(decode([...stream].map((b) => Buffer.from([b])))).toEqual(messages);
  });

  it("rejects a claimed length over the limit from the header alone, before allocating", () => {
    const codec = lengthPrefixed({ maxLength: 1024 }).create(() => {});
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffffffff, 0);
    let error: unknown;
    try {
      codec.push(header.subarray(0, 2));
      codec.push(header.subarray(2));
    } catch (err) {
      error = err;
    }
    expect(EchoplexError.is(error) && error.code).toBe("ERR_FRAME_TOO_LARGE");
    expect((error as Error).message).toBe("frame of 4294967295 bytes exceeds 1024 bytes");
    expect(codec.bufferedBytes).toBe(0);
  });

  it("accepts a frame of exactly the limit", () => {
    expect(decode([encodeFrame("abcd")], 4)).toEqual(["abcd"]);
    expect(() => decode([encodeFrame("abcde")], 4)).toThrow(/exceeds 4 bytes/);
  });

  it("encodes prefix + payload as one frame", () => {
    const codec = lengthPrefixed().create(() => {});
    const out: Buffer[] = [];
    const n = codec.encode(out, Buffer.from("hi"), Buffer.from("ECHO: "));
    const bytes = Buffer.concat(out);
    expect(n).toBe(12);
    expect(bytes.readUInt32BE(0)).toBe(8);
    expect(bytes.subarray(4).toString()).toBe("ECHO: hi");
  });
});
