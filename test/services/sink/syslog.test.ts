// The syslog parser on real-world messages: what util-linux logger(1) sends (captured),
// RFC 5424's own examples, BSD messages from common daemons and devices, and bad input.
import { describe, expect, it } from "vitest";
import { parseSyslog, type SyslogResult } from "../../../src/services/sink/syslog.js";

const RECEIVED = new Date(2026, 11, 4, 19, 5, 8); // local time, as the sink's clock reads it
const parse = (text: string | Buffer, received = RECEIVED): SyslogResult =>
  parseSyslog(typeof text === "string" ? Buffer.from(text, "utf8") : text, received);
const fields = (text: string | Buffer, received = RECEIVED) => {
  const r = parse(text, received);
  if (!r.ok) throw new Error(`did not parse: ${r.error}`);
  return r.fields;
};
const local = (...a: [number, number, number, number, number, number]) => new Date(...a).toISOString();

describe("syslog parser: RFC 5424", () => {
  it("logger --rfc5424 (util-linux 2.38)", () => {
    expect(
      fields(
        '<13>1 2026-12-04T19:05:07.614558+00:00 vm root - - [timeQuality tzKnown="1" isSynced="0"] hello 5424',
      ),
    ).toEqual({
      facility: "user",
      severity: "notice",
      pri: 13,
      format: "rfc5424",
      time: "2026-12-04T19:05:07.614558+00:00",
      host: "vm",
      app: "root",
      structuredData: { timeQuality: { tzKnown: "1", isSynced: "0" } },
      message: "hello 5424",
    });
  });

  it("logger -p local3.warning -t myapp --id=42 --msgid MSG1 with two SD elements", () => {
    const f = fields(
      '<156>1 2026-12-04T19:05:07.664630+00:00 vm myapp 42 MSG1 [timeQuality tzKnown="1"][zoo@123 tiger="hungry"] with sd',
    );
    expect(f).toMatchObject({
      facility: "local3",
      severity: "warning",
      app: "myapp",
      procid: "42",
      msgid: "MSG1",
    });
    expect(f.structuredData).toEqual({ timeQuality: { tzKnown: "1" }, "zoo@123": { tiger: "hungry" } });
    expect(f.message).toBe("with sd");
  });

  it("RFC 5424 example 1: nil SD, a BOM before the UTF-8 message", () => {
    const f = fields(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8",
    );
    expect(f).toMatchObject({
      facility: "auth",
      severity: "crit",
      host: "mymachine.example.com",
      app: "su",
      msgid: "ID47",
    });
    expect(f.procid).toBeUndefined();
    expect(f.structuredData).toBeUndefined();
    expect(f.message).toBe("'su root' failed for lonvick on /dev/pts/8");
  });

  it("RFC 5424 example 4: SD and no message; escapes in values; a repeated parameter", () => {
    const f = fields(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high" x="a \\"q\\" \\] \\\\ \\n" x="b"]',
    );
    expect(f.structuredData).toEqual({
      "exampleSDID@32473": { iut: "3", eventSource: "Application", eventID: "1011" },
      "examplePriority@32473": { class: "high", x: ['a "q" ] \\ \\n', "b"] },
    });
    expect(f.message).toBe("");
  });

  it("every field nil", () => {
    expect(fields("<0>1 - - - - - -")).toMatchObject({
      facility: "kern",
      severity: "emerg",
      time: null,
      host: null,
      app: null,
      message: "",
    });
  });

  it("a message that is not UTF-8 keeps its bytes as base64; a trailing LF or NUL is not part of it", () => {
    const f = fields(
      Buffer.concat([
        Buffer.from("<14>1 - h a - - - "),
        Buffer.from([0xe9, 0x74, 0xe9]),
        Buffer.from("\n\0"),
      ]),
    );
    expect(f.message).toBeUndefined();
    expect(f.messageBase64).toBe(Buffer.from([0xe9, 0x74, 0xe9]).toString("base64"));
  });

  it.each([
    ["<13>2 2026-12-04T19:05:07Z h a - - - m", "unknown syslog version 2"],
    ["<13>1 2026-13-04T19:05:07Z h a - - - m", 'bad TIMESTAMP "2026-13-04T19:05:07Z"'],
    ["<13>1 yesterday h a - - - m", 'bad TIMESTAMP "yesterday"'],
    ["<13>1 - h a", "the header is cut off at APP-NAME"],
    ["<13>1 - h a - - [x y=1] m", 'no ="…" after y'],
    ['<13>1 - h a - - [x y="1"m', "SD element x is not closed by ]"],
    ['<13>1 - h a - - [x y="1]', "a PARAM-VALUE is not closed by a quote"],
    ['<13>1 - h a - - [x y="1"][x z="2"]', "SD-ID x appears twice"],
    ["<13>1 - h a - - {json} m", "STRUCTURED-DATA must be - or start with ["],
    [`<13>1 - h ${"a".repeat(49)} - - - m`, "APP-NAME longer than 48 characters"],
  ])("malformed: %s → %s", (text, error) => {
    expect(parse(text)).toEqual({ ok: false, error, pri: { facility: "user", severity: "notice", pri: 13 } });
  });
});

describe("syslog parser: RFC 3164", () => {
  it("logger --rfc3164 (util-linux 2.38)", () => {
    expect(fields("<13>Dec  4 19:05:07 vm root: hello 3164")).toEqual({
      facility: "user",
      severity: "notice",
      pri: 13,
      format: "rfc3164",
      time: local(2026, 11, 4, 19, 5, 7),
      host: "vm",
      app: "root",
      message: "hello 3164",
    });
  });

  it("a tag with a pid (sshd)", () => {
    expect(
      fields("<38>Feb 11 09:41:02 gw sshd[1234]: Accepted publickey for ops from 10.0.0.5"),
    ).toMatchObject({
      facility: "auth",
      severity: "info",
      host: "gw",
      app: "sshd",
      procid: "1234",
      message: "Accepted publickey for ops from 10.0.0.5",
    });
  });

  it("no host (a local sender, as on /dev/log)", () => {
    expect(fields("<30>Dec  4 19:00:00 systemd[1]: Started Session 3.")).toMatchObject({
      host: null,
      app: "systemd",
      procid: "1",
      message: "Started Session 3.",
    });
  });

  it("no tag (a device that sends only text after its name)", () => {
    expect(
      fields("<189>Dec  4 18:59:59 switch01 %LINK-3-UPDOWN Interface Gi0/1, changed state to up"),
    ).toMatchObject({
      facility: "local7",
      severity: "notice",
      host: "switch01",
      app: null,
      message: "%LINK-3-UPDOWN Interface Gi0/1, changed state to up",
    });
  });

  it("the year is the one closest to the time of receipt (a December message read on 1 January)", () => {
    const newYear = new Date(2027, 0, 1, 0, 0, 5);
    expect(fields("<13>Dec 31 23:59:58 vm app: late", newYear).time).toBe(local(2026, 11, 31, 23, 59, 58));
    expect(fields("<13>Jan  1 00:00:01 vm app: early", new Date(2026, 11, 31, 23, 59, 59)).time).toBe(
      local(2027, 0, 1, 0, 0, 1),
    );
  });

  it("an RFC 3339 timestamp in the BSD layout (rsyslog's forwarding format)", () => {
    expect(fields("<86>2026-12-04T19:05:07.123+01:00 web01 CRON[77]: (root) CMD (run-parts)")).toMatchObject({
      facility: "authpriv",
      severity: "info",
      time: "2026-12-04T19:05:07.123+01:00",
      host: "web01",
      app: "CRON",
      procid: "77",
    });
  });

  it.each([
    ["hello without PRI", "no <PRI> at the start", undefined],
    ["<192>1 - - - - - - x", "PRI 192 is out of range (0-191)", undefined],
    ["<13>just text", "neither RFC 5424 (<PRI>1 …) nor RFC 3164 (<PRI>Mmm dd hh:mm:ss …)", 13],
    ["<13>Feb 30 10:00:00 vm app: x", "no such day: Feb 30", 13],
    ["<13>Dec  4 25:00:00 vm app: x", "bad RFC 3164 timestamp", 13],
  ])("malformed: %s → %s", (text, error, pri) => {
    const r = parse(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBe(error);
      expect(r.pri?.pri).toBe(pri);
    }
  });
});
