// Parses one syslog message, RFC 5424 or RFC 3164 (BSD), into its fields. Pure: bytes
// and the time of receipt in, a result out. The header is read as latin1 (one char per
// byte, so offsets are byte offsets); the message text is UTF-8 when it is valid UTF-8,
// otherwise its exact bytes are kept as base64. Anything that does not read as syslog is
// an error the caller records with the raw bytes: never dropped.
import { isUtf8 } from "node:buffer";

const FACILITIES = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "authpriv",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "clock",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
] as const;
const SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const BOM = "\u00ef\u00bb\u00bf"; // EF BB BF read as latin1

/** Structured data: SD-ID → parameter → value (several values of one name: an array). */
export type StructuredData = Record<string, Record<string, string | string[]>>;

export interface SyslogFields {
  facility: string;
  severity: string;
  /** The PRI value (facility × 8 + severity). */
  pri: number;
  format: "rfc5424" | "rfc3164";
  /** ISO 8601. RFC 5424: as sent; RFC 3164 (no year, no zone): see `bsdTime`. Null: none sent. */
  time: string | null;
  host: string | null;
  app: string | null;
  procid?: string;
  msgid?: string;
  structuredData?: StructuredData;
  /** The message text, or `messageBase64` when it is not valid UTF-8. */
  message?: string;
  messageBase64?: string;
}

export type SyslogResult =
  | { ok: true; fields: SyslogFields }
  | { ok: false; error: string; pri?: { facility: string; severity: string; pri: number } };

class Malformed extends Error {}

const fail = (why: string): never => {
  throw new Malformed(why);
};

/** Parses `payload`; `received` dates an RFC 3164 timestamp, which has no year. */
export function parseSyslog(payload: Buffer, received: Date): SyslogResult {
  const bytes = trimEnd(payload);
  const text = bytes.toString("latin1");
  const pri = /^<(\d{1,3})>/.exec(text);
  if (pri === null) return { ok: false, error: "no <PRI> at the start" };
  const value = Number(pri[1]);
  if (value > 191) return { ok: false, error: `PRI ${value} is out of range (0-191)` };
  const head = {
    facility: FACILITIES[value >> 3]!,
    severity: SEVERITIES[value & 7]!,
    pri: value,
  };
  try {
    const at = pri[0].length;
    const fields = /^[1-9]\d{0,2} /.test(text.slice(at))
      ? rfc5424(text, bytes, at)
      : rfc3164(text, bytes, at, received);
    return { ok: true, fields: { ...head, ...fields } };
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    return { ok: false, error: err.message, pri: head };
  }
}

type Parsed = Omit<SyslogFields, "facility" | "severity" | "pri">;

/** `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]`. */
function rfc5424(text: string, bytes: Buffer, start: number): Parsed {
  const cursor = { at: start };
  const version = token(text, cursor, "VERSION");
  if (version !== "1") fail(`unknown syslog version ${version}`);
  const time = token(text, cursor, "TIMESTAMP");
  if (time !== "-" && !isRfc3339(time)) fail(`bad TIMESTAMP "${time}"`);
  const host = field(text, cursor, "HOSTNAME", 255);
  const app = field(text, cursor, "APP-NAME", 48);
  const procid = field(text, cursor, "PROCID", 128);
  const msgid = field(text, cursor, "MSGID", 32);
  const structuredData = sd(text, cursor);
  let body = cursor.at;
  if (body < text.length) {
    if (text[body] !== " ") fail("no space after STRUCTURED-DATA");
    body++;
    if (text.startsWith(BOM, body)) body += BOM.length;
  }
  return {
    format: "rfc5424",
    time: time === "-" ? null : time,
    host,
    app,
    ...(procid === null ? {} : { procid }),
    ...(msgid === null ? {} : { msgid }),
    ...(structuredData === undefined ? {} : { structuredData }),
    ...messageOf(bytes, body),
  };
}

/** The next space-terminated header token (a message may end after SD, nowhere else). */
function token(text: string, cursor: { at: number }, name: string): string {
  const end = text.indexOf(" ", cursor.at);
  if (end < 0) fail(`the header is cut off at ${name}`);
  const value = text.slice(cursor.at, end);
  if (value === "") fail(`empty ${name}`);
  cursor.at = end + 1;
  return value;
}

/** A header field: printable US-ASCII up to `max` characters, or `-` (null). */
function field(text: string, cursor: { at: number }, name: string, max: number): string | null {
  const value = token(text, cursor, name);
  if (value.length > max) fail(`${name} longer than ${max} characters`);
  if (!/^[\x21-\x7e]+$/.test(value)) fail(`${name} is not printable US-ASCII`);
  return value === "-" ? null : value;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

function isRfc3339(time: string): boolean {
  const m = RFC3339.exec(time);
  if (m === null) return false;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as number[];
  return month! >= 1 && month! <= 12 && day! >= 1 && day! <= 31 && hour! < 24 && minute! < 60 && second! < 61;
}

/** `-`, or `[id name="value" …]…`; values keep `\` before anything but `"`, `\` and `]`. */
function sd(text: string, cursor: { at: number }): StructuredData | undefined {
  if (text[cursor.at] === "-") {
    cursor.at++;
    return undefined;
  }
  if (text[cursor.at] !== "[") fail("STRUCTURED-DATA must be - or start with [");
  const out: StructuredData = {};
  while (text[cursor.at] === "[") {
    cursor.at++;
    const id = sdName(text, cursor, "SD-ID");
    if (Object.hasOwn(out, id)) fail(`SD-ID ${id} appears twice`);
    const params: Record<string, string | string[]> = {};
    while (text[cursor.at] === " ") {
      cursor.at++;
      const name = sdName(text, cursor, "PARAM-NAME");
      if (text.slice(cursor.at, cursor.at + 2) !== '="') fail(`no ="…" after ${name}`);
      cursor.at += 2;
      const value = sdValue(text, cursor);
      const had = params[name];
      params[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    }
    if (text[cursor.at] !== "]") fail(`SD element ${id} is not closed by ]`);
    cursor.at++;
    out[id] = params;
  }
  return out;
}

/** SD-NAME: 1 to 32 printable US-ASCII characters but `=`, `]`, `"` and space. */
function sdName(text: string, cursor: { at: number }, name: string): string {
  let end = cursor.at;
  while (end < text.length && /[\x21-\x7e]/.test(text[end]!) && !'=]"'.includes(text[end]!)) end++;
  if (end === cursor.at) fail(`empty or bad ${name}`);
  if (end - cursor.at > 32) fail(`${name} longer than 32 characters`);
  const value = text.slice(cursor.at, end);
  cursor.at = end;
  return value;
}

function sdValue(text: string, cursor: { at: number }): string {
  let value = "";
  for (let i = cursor.at; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length && '"\\]'.includes(text[i + 1]!)) {
      value += text[++i];
    } else if (c === '"') {
      cursor.at = i + 1;
      const utf8 = Buffer.from(value, "latin1");
      if (!isUtf8(utf8)) fail("a PARAM-VALUE is not valid UTF-8");
      return utf8.toString("utf8");
    } else {
      value += c;
    }
  }
  return fail("a PARAM-VALUE is not closed by a quote");
}

/** BSD: `Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG`; the host may be missing (a local sender). */
function rfc3164(text: string, bytes: Buffer, start: number, received: Date): Parsed {
  const rest = text.slice(start);
  let time: string;
  let at: number;
  const bsd = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2})(?: |$)/.exec(rest);
  const iso = /^(\S+)(?: |$)/.exec(rest);
  if (bsd !== null) {
    time = bsdTime(bsd, received);
    at = start + bsd[0].length;
  } else if (iso !== null && isRfc3339(iso[1]!)) {
    // rsyslog's forwarding format: BSD layout with an RFC 3339 timestamp.
    time = iso[1]!;
    at = start + iso[0].length;
  } else {
    return fail("neither RFC 5424 (<PRI>1 …) nor RFC 3164 (<PRI>Mmm dd hh:mm:ss …)");
  }
  const TAG = /^([^\s[\]:]{1,48})(?:\[([^\]\s]{1,128})\])?:(?: |$)/;
  let host: string | null = null;
  if (!TAG.test(text.slice(at))) {
    const end = text.indexOf(" ", at);
    host = text.slice(at, end < 0 ? text.length : end);
    at = end < 0 ? text.length : end + 1;
  }
  const tag = TAG.exec(text.slice(at));
  if (tag !== null) at += tag[0].length;
  return {
    format: "rfc3164",
    time,
    host: host === "" ? null : host,
    app: tag?.[1] ?? null,
    ...(tag?.[2] === undefined ? {} : { procid: tag[2] }),
    ...messageOf(bytes, at),
  };
}

/**
 * An RFC 3164 timestamp has neither year nor zone: it is read in this machine's zone, in
 * the year that puts it closest to the time of receipt (a December message received on
 * 1 January is last year's).
 */
function bsdTime(m: RegExpExecArray, received: Date): string {
  const month = MONTHS.indexOf(m[1]!);
  const [day, hour, minute, second] = [m[2]!.trim(), m[3], m[4], m[5]].map(Number) as number[];
  if (month < 0) fail(`unknown month ${m[1]}`);
  if (day! < 1 || day! > 31 || hour! > 23 || minute! > 59 || second! > 60) fail("bad RFC 3164 timestamp");
  let best: Date | undefined;
  for (const year of [received.getFullYear() - 1, received.getFullYear(), received.getFullYear() + 1]) {
    const candidate = new Date(year, month, day, hour, minute, second);
    if (candidate.getMonth() !== month) continue; // 30 Feb and the like
    const distance = Math.abs(candidate.getTime() - received.getTime());
    if (best === undefined || distance < Math.abs(best.getTime() - received.getTime())) best = candidate;
  }
  if (best === undefined) return fail(`no such day: ${m[1]} ${day}`);
  return best.toISOString();
}

function messageOf(bytes: Buffer, at: number): { message: string } | { messageBase64: string } {
  const body = bytes.subarray(at);
  return isUtf8(body) ? { message: body.toString("utf8") } : { messageBase64: body.toString("base64") };
}

/** Drops the line ending or NUL that many senders put after a datagram's message. */
function trimEnd(payload: Buffer): Buffer {
  let end = payload.length;
  while (end > 0 && (payload[end - 1] === 0x0a || payload[end - 1] === 0x0d || payload[end - 1] === 0x00))
    end--;
  return payload.subarray(0, end);
}
