import { describe, expect, it } from "vitest";
import { connectionMeta, encodeRecord, isPlainText } from "../../../src/services/sink/record.js";

const ts = Buffer.from("2026-01-02T03:04:05.678Z");

describe("sink records", () => {
  it("encodes text as JSON that parses back to the same fields", () => {
    const meta = connectionMeta("127.0.0.1:4000", 7);
    for (const text of ["hello", 'a "quoted" \\ path', "ünïcode ✓ 😀", ""]) {
      const line = encodeRecord(ts, meta, Buffer.from(text)).toString();
      expect(line.endsWith("\n")).toBe(true);
      expect(JSON.parse(line)).toEqual({
        ts: "2026-01-02T03:04:05.678Z",
        peer: "127.0.0.1:4000",
        conn: 7,
        bytes: Buffer.byteLength(text),
        text,
      });
    }
  });

  it("encodes invalid UTF-8 and control characters as base64", () => {
    const meta = connectionMeta("[::1]:4000", 1);
    for (const bytes of [
      Buffer.from([0xff, 0xfe]),
      Buffer.from("a\tb"),
      Buffer.from("\u0085x"),
      Buffer.from([0xe2, 0x82]),
    ]) {
      const rec = JSON.parse(encodeRecord(ts, meta, bytes).toString()) as { base64: string; peer: string };
      expect(rec.peer).toBe("[::1]:4000");
      expect(Buffer.from(rec.base64, "base64").equals(bytes)).toBe(true);
    }
  });

  it("tells text from binary", () => {
    expect(isPlainText(Buffer.from("plain ✓"))).toBe(true);
    expect(isPlainText(Buffer.from([0xc3, 0xa9]))).toBe(true); // é
    expect(isPlainText(Buffer.from([0xc2, 0x9b]))).toBe(false); // C1 CSI
    expect(isPlainText(Buffer.from([0x7f]))).toBe(false);
  });
});
