import { describe, expect, it } from "vitest";
import { syslogStream } from "../../src/codecs/syslog-stream.js";
import { EchoplexError } from "../../src/errors.js";

function decode(input: string | Buffer[], maxLength = 1024): string[] {
  const out: string[] = [];
  const codec = syslogStream({ maxLength }).create((m) => out.push(m.toString("latin1")));
  for (const chunk of typeof input === "string" ? [Buffer.from(input, "latin1")] : input) codec.push(chunk);
  codec.end();
  return out;
}

function failure(input: string, maxLength = 1024): EchoplexError {
  try {
    decode(input, maxLength);
  } catch (err) {
    if (EchoplexError.is(err)) return err;
    throw err;
  }
  throw new Error("no error");
}

// What `logger -T` (util-linux 2.38) wrote on the wire, captured.
const LOGGER_OCTETS = "43 <13>Dec  4 19:05:07 vm root: tcp octet 3164";
const LOGGER_LINES = "<13>Dec  4 19:05:07 vm root: l1\n<13>Dec  4 19:05:07 vm root: l2\n";

describe("syslog stream codec", () => {
  it("reads logger --octet-count frames, back to back", () => {
    expect(decode(LOGGER_OCTETS + LOGGER_OCTETS)).toEqual([LOGGER_OCTETS.slice(3), LOGGER_OCTETS.slice(3)]);
  });

  it("reads logger's LF-terminated messages", () => {
    expect(decode(LOGGER_LINES)).toEqual([
      "<13>Dec  4 19:05:07 vm root: l1",
      "<13>Dec  4 19:05:07 vm root: l2",
    ]);
  });

  it("keeps LF inside a counted frame (the point of octet counting)", () => {
    expect(decode("9 <13>a\nb\nc5 <13>d")).toEqual(["<13>a\nb\nc", "<13>d"]);
  });

  it("a frame byte by byte is one message", () => {
    const bytes = [...Buffer.from("12 <13>hello!!")].map((b) => Buffer.from([b]));
    expect(decode(bytes)).toEqual(["<13>hello!!"]);
  });

  it("a counted frame longer than the limit is refused from its header", () => {
    const err = failure("99999999999999999999 <13>x", 2048);
    expect(err.code).toBe("ERR_FRAME_TOO_LARGE");
    expect(err.message).toBe("syslog frame exceeds 2048 bytes");
  });

  it("a count not followed by a space is a framing error naming the byte", () => {
    const err = failure("12<13>hello");
    expect(err.code).toBe("ERR_SYSLOG_FRAME");
    expect(err.message).toBe('bad syslog octet count: expected a digit or a space after the length, got "<"');
  });

  it("a line longer than the limit is ERR_LINE_TOO_LONG", () => {
    expect(failure(`<13>${"x".repeat(100)}\n`, 50).code).toBe("ERR_LINE_TOO_LONG");
  });

  it("what arrived of a frame cut off by the end of the stream is delivered, not lost", () => {
    expect(decode("5 <13>a3 <1")).toEqual(["<13>a", "<1"]);
  });
});
