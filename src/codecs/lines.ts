// Line framing: messages end in LF; a CR before the LF is tolerated and remembered
// so that replies use the same line ending. The last line of a stream needs no LF.
import { EchoplexError } from "../errors.js";
import type { Codec, Framing, MessageCallback } from "./types.js";

const LF = 0x0a;
const CR = 0x0d;
const LF_BUF = Buffer.from("\n");
const CRLF_BUF = Buffer.from("\r\n");

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** First allocation for a partial line; it doubles from there. */
const MIN_HOLD = 256;

export interface LinesOptions {
  /** Longest line accepted, in bytes, excluding the line ending. Default 64 KiB. */
  maxLength?: number;
  /** End every reply with CRLF whatever the peer sends (IRC); default: mirror the peer's last line. */
  crlfReplies?: boolean;
}

function lineTooLong(maxLength: number): EchoplexError {
  return new EchoplexError("ERR_LINE_TOO_LONG", `line exceeds ${maxLength} bytes`);
}

class LineCodec implements Codec {
  /**
   * The unterminated line so far, in one buffer that grows by doubling up to the limit:
   * memory stays within 2x the bytes held however small the chunks are (a slowloris
   * sending one byte per packet must not cost an object per byte).
   */
  private pending: Buffer | undefined;
  private pendingBytes = 0;
  /** Whether the last delivered line ended in CRLF. */
  crlf = false;

  constructor(
    private readonly maxLength: number,
    private readonly onMessage: MessageCallback,
    private readonly crlfReplies = false,
  ) {}

  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const max = this.maxLength;
    let start = 0;
    if (this.pendingBytes > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.hold(chunk, 0);
        return;
      }
      // +1: a CR may still be stripped from the end of the joined line.
      if (this.pendingBytes + nl > max + 1) throw lineTooLong(max);
      this.hold(chunk.subarray(0, nl), 0);
      // The joined line is handed over with its buffer: the next partial line gets a new
      // one, so a handler may keep the view until its replies are flushed.
      const line = this.pending!.subarray(0, this.pendingBytes);
      this.pending = undefined;
      this.pendingBytes = 0;
      this.deliver(line, 0, line.length);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf(LF, start); nl >= 0; nl = chunk.indexOf(LF, start)) {
      this.deliver(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.hold(chunk, start);
  }

  end(): void {
    if (this.pendingBytes === 0) return;
    const line = this.pending!.subarray(0, this.pendingBytes);
    this.pending = undefined;
    this.pendingBytes = 0;
    this.deliver(line, 0, line.length);
  }

  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number {
    const eol = this.crlf || this.crlfReplies ? CRLF_BUF : LF_BUF;
    let n = payload.length + eol.length;
    if (prefix !== undefined && prefix.length > 0) {
      out.push(prefix);
      n += prefix.length;
    }
    out.push(payload, eol);
    return n;
  }

  /** Delivers buf[start, lfAt) minus a trailing CR. */
  private deliver(buf: Buffer, start: number, lfAt: number): void {
    let end = lfAt;
    if (end > start && buf[end - 1] === CR) {
      end--;
      this.crlf = true;
    } else {
      this.crlf = false;
    }
    if (end - start > this.maxLength) throw lineTooLong(this.maxLength);
    this.onMessage(buf.subarray(start, end));
  }

  /** Appends chunk[start..] to the partial line, checking the limit before growing. */
  private hold(chunk: Buffer, start: number): void {
    const size = chunk.length - start;
    const need = this.pendingBytes + size;
    const cap = this.maxLength + 1;
    if (need > cap) throw lineTooLong(this.maxLength);
    // Copy rather than keep a view: a view would pin the whole (up to 64 KiB) chunk.
    let buf = this.pending;
    if (buf === undefined || buf.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(need, MIN_HOLD, (buf?.length ?? 0) * 2)));
      if (buf !== undefined) buf.copy(grown, 0, 0, this.pendingBytes);
      buf = grown;
      this.pending = buf;
    }
    chunk.copy(buf, this.pendingBytes, start);
    this.pendingBytes = need;
  }
}

/** Line framing (LF, tolerating CRLF) with a maximum line length. */
export function lines(options: LinesOptions = {}): Framing {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new EchoplexError("ERR_BAD_OPTION", `max line length must be a positive integer, got ${maxLength}`);
  }
  return {
    name: "lines",
    maxMessageBytes: maxLength,
    create: (onMessage) => new LineCodec(maxLength, onMessage, options.crlfReplies),
  };
}
