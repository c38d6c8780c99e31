import { describe, expect, it } from "vitest";
import { lines } from "../../src/codecs/lines.js";
import { EchoplexError } from "../../src/errors.js";

function decodeChunks(chunks: Buffer[], maxLength?: number): string[] {
  const out: string[] = [];
  const codec = lines(maxLength === undefined ? {} : { maxLength }).create((p) =>
    out.push(p.toString("latin1")),
  );
  for (const c of chunks) codec.push(c);
  codec.end();
  return out;
}

/** Every way to cut `input` into two or three pieces. */
function* splits(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++) {
    yield [input.subarray(0, i), input.subarray(i)];
    for (let j = i; j <= input.length; j++)
      yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
  }
}

describe("lines codec", () => {
  const input = Buffer.from("hello\r\nworld\n\nx\r\ny\r\n\r\nlast", "latin1");
  const expected = ["hello", "world", "", "x", "y", "", "last"];

  it("decodes LF and CRLF lines and a final unterminated line", () => {
    expect(decodeChunks([input])).toEqual(expected);
  });

  it("decodes the same messages however the stream is split (every 1-, 2- and 3-way split)", () => {
    let count = 0;
    for (const parts of splits(input)) {
      expect(decodeChunks(parts)).toEqual(expected);
      count++;
    }
    expect(count).toBeGreaterThan(300);
  });

  it("decodes byte by byte", () => {
    const bytes = [...input].map((b) => Buffer.from([b]));
    expect(decodeChunks(bytes)).toEqual(expected);
  });

  it("accepts a line of exactly the limit, with or without CR, and rejects one byte more", () => {
    expect(decodeChunks([Buffer.from(`${"a".repeat(8)}\n`)], 8)).toEqual(["aaaaaaaa"]);
    expect(decodeChunks([Buffer.from(`${"a".repeat(8)}\r\n`)], 8)).toEqual(["aaaaaaaa"]);
    expect(() => decodeChunks([Buffer.from(`${"a".repeat(9)}\n`)], 8)).toThrowError(/line exceeds 8 bytes/);
  });

  it("rejects an over-long line split across chunks before it is complete", () => {
    const got: string[] = [];
    const codec = lines({ maxLength: 8 }).create((p) => got.push(p.toString()));
    codec.push(Buffer.from("ok\nabcdef"));
    expect(got).toEqual(["ok"]);
    let error: unknown;
    try {
      codec.push(Buffer.from("ghijk")); // 11 bytes, no newline yet
    } catch (err) {
      error = err;
    }
    expect(EchoplexError.is(error) && error.code).toBe("ERR_LINE_TOO_LONG");
    expect(codec.bufferedBytes).toBeLessThanOrEqual(9);
  });

  it("rejects an over-long final unterminated line at end of stream", () => {
    const codec = lines({ maxLength: 4 }).create(() => {});
    codec.push(Buffer.from("abcd"));
    codec.push(Buffer.from("e"));
    expect(() => codec.end()).toThrowError(/line exceeds 4 bytes/);
  });

  it("delivers lines completed before an over-long one in the same chunk", () => {
    const got: string[] = [];
    const codec = lines({ maxLength: 3 }).create((p) => got.push(p.toString()));
    expect(() => codec.push(Buffer.from("a\nbb\ntoolong\nc\n"))).toThrow();
    expect(got).toEqual(["a", "bb"]);
  });

  it("encodes replies in the line ending of the last request", () => {
    const codec = lines().create(() => {});
    const out: Buffer[] = [];
    codec.push(Buffer.from("a\r\n"));
    const n = codec.encode(out, Buffer.from("a"), Buffer.from("ECHO: "));
    expect(Buffer.concat(out).toString()).toBe("ECHO: a\r\n");
    expect(n).toBe(9);
    codec.push(Buffer.from("b\n"));
    out.length = 0;
    codec.encode(out, Buffer.from("b"));
    expect(Buffer.concat(out).toString()).toBe("b\n");
  });

  it("does not keep a whole chunk alive for a partial line", () => {
    const codec = lines().create(() => {});
    const chunk = Buffer.alloc(65536, 0x61);
    chunk[10] = 10;
    codec.push(chunk.subarray(0, 20));
    expect(codec.bufferedBytes).toBe(9);
  });
});
