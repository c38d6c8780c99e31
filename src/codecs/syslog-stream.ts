// Syslog over a byte stream (TCP, TLS, Unix), RFC 6587: octet counting (`<len> <msg>`)
// or LF-terminated messages, chosen per connection by the first byte (a digit: octet
// counting; anything else, normally `<`: lines). UDP needs none of this: a datagram is
// one message. Senders mix neither on one connection, and a message never starts with
// a digit, so the first byte decides once.
import { EchoplexError } from "../errors.js";
import { DEFAULT_MAX_LINE_BYTES, lines } from "./lines.js";
import type { Codec, Framing, MessageCallback } from "./types.js";

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const ZERO = 0x30;
const NINE = 0x39;
/** First allocation for a partial frame; it doubles from there up to the frame's length. */
const MIN_HOLD = 256;

export interface SyslogStreamOptions {
  /** Longest message accepted, in bytes (the octet count, or the line without its LF). Default 64 KiB. */
  maxLength?: number;
}

function frameTooLarge(max: number): EchoplexError {
  return new EchoplexError("ERR_FRAME_TOO_LARGE", `syslog frame exceeds ${max} bytes`);
}

function badCount(detail: string): EchoplexError {
  return new EchoplexError("ERR_SYSLOG_FRAME", `bad syslog octet count: ${detail}`);
}

const isDigit = (b: number) => b >= ZERO && b <= NINE;

/** Octet counting: a decimal length, a space, then exactly that many bytes. */
class OctetCountingCodec implements Codec {
  /** The frame's length once its header is read; -1 while reading the header. */
  private want = -1;
  /** The header's digits so far. */
  private count = 0;
  private digits = 0;
  /** The partial frame body, growing by doubling up to `want`: a slow sender costs what it sent. */
  private held: Buffer | undefined;
  private heldBytes = 0;

  constructor(
    private readonly maxLength: number,
    private readonly onMessage: MessageCallback,
  ) {}

  get bufferedBytes(): number {
    return this.want < 0 ? this.digits : this.heldBytes + this.digits + 1;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.want < 0) {
        at = this.header(chunk, at);
        continue;
      }
      const need = this.want - this.heldBytes;
      const available = chunk.length - at;
      if (this.heldBytes === 0 && available >= need) {
        // The whole body is in this chunk: a view, no copy.
        const body = chunk.subarray(at, at + need);
        this.reset();
        this.onMessage(body);
        at += need;
        continue;
      }
      const take = Math.min(need, available);
      this.hold(chunk.subarray(at, at + take));
      at += take;
      if (this.heldBytes === this.want) {
        const body = this.held!.subarray(0, this.heldBytes);
        this.held = undefined;
        this.reset();
        this.onMessage(body);
      }
    }
  }

  /** Reads header bytes from `at`; returns where it stopped. */
  private header(chunk: Buffer, at: number): number {
    while (at < chunk.length) {
      const b = chunk[at]!;
      if (this.digits === 0 && (b === LF || b === CR)) {
        // Some senders end each counted frame with a line break too: it is not a message.
        at++;
        continue;
      }
      if (isDigit(b)) {
        if (this.digits === 0 && b === ZERO) throw badCount("a length cannot start with 0");
        this.count = this.count * 10 + (b - ZERO);
        this.digits++;
        // Checked digit by digit: an endless run of digits is refused before it is held.
        if (this.count > this.maxLength) throw frameTooLarge(this.maxLength);
        at++;
        continue;
      }
      if (b === SP && this.digits > 0) {
        this.want = this.count;
        return at + 1;
      }
      const shown = b >= 0x21 && b <= 0x7e ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16)}`;
      throw badCount(`expected a digit or a space after the length, got ${shown}`);
    }
    return at;
  }

  end(): void {
    // What arrived of an unfinished frame is delivered rather than lost: the sink records
    // it (as a parse error if it does not read as syslog).
    if (this.want >= 0 && this.heldBytes > 0) {
      const body = this.held!.subarray(0, this.heldBytes);
      this.held = undefined;
      this.reset();
      this.onMessage(body);
    } else if (this.want < 0 && this.digits > 0) {
      const digits = Buffer.from(String(this.count), "latin1");
      this.reset();
      this.onMessage(digits);
    }
  }

  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number {
    const extra = prefix?.length ?? 0;
    const head = Buffer.from(`${payload.length + extra} `, "latin1");
    out.push(head);
    if (extra > 0) out.push(prefix!);
    out.push(payload);
    return head.length + extra + payload.length;
  }

  private reset(): void {
    this.want = -1;
    this.count = 0;
    this.digits = 0;
    this.heldBytes = 0;
  }

  private hold(part: Buffer): void {
    const need = this.heldBytes + part.length;
    let buf = this.held;
    if (buf === undefined || buf.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.want, Math.max(need, MIN_HOLD, (buf?.length ?? 0) * 2)));
      if (buf !== undefined) buf.copy(grown, 0, 0, this.heldBytes);
      buf = grown;
      this.held = buf;
    }
    part.copy(buf, this.heldBytes);
    this.heldBytes = need;
  }
}

/** Encodes LF lines for a peer that has not sent a byte yet (it decodes nothing). */
const LF_ENCODER = lines().create(() => {});

/** Undecided until the first byte; then octet counting or lines for the rest of the stream. */
class SyslogStreamCodec implements Codec {
  private inner: Codec | undefined;

  constructor(
    private readonly maxLength: number,
    private readonly onMessage: MessageCallback,
  ) {}

  get bufferedBytes(): number {
    return this.inner?.bufferedBytes ?? 0;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.inner === undefined) {
      this.inner = isDigit(chunk[0]!)
        ? new OctetCountingCodec(this.maxLength, this.onMessage)
        : lines({ maxLength: this.maxLength }).create(this.onMessage);
    }
    this.inner.push(chunk);
  }

  end(): void {
    this.inner?.end();
  }

  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number {
    // Answers (the sink's --ack) go in the framing the peer chose; lines before it chose.
    return (this.inner ?? LF_ENCODER).encode(out, payload, prefix);
  }
}

/** RFC 6587 syslog framing on a stream: octet counting or LF, detected per connection. */
export function syslogStream(options: SyslogStreamOptions = {}): Framing {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `max message length must be a positive integer, got ${maxLength}`,
    );
  }
  return {
    name: "syslog",
    maxMessageBytes: maxLength,
    create: (onMessage) => new SyslogStreamCodec(maxLength, onMessage),
  };
}
