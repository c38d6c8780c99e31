// The load generator's HTTP/1.1 response parser: bytes of one connection in, one
// event per final response out, working on the Buffers as they come (no strings, no
// copies but a header line split across reads). It reads only what the client needs:
// the status, Content-Length, Transfer-Encoding: chunked and Connection; bodies are
// counted and skipped, or handed over when the caller checks them (--expect). Pure.
import { EchoplexError } from "../errors.js";

/** Where a parser's events go (one object per connection: no closure per response). */
export interface ResponseSink {
  /**
   * A final response is complete: its status, its body's bytes (chunked: the data only)
   * and whether the connection stays open for the next request.
   */
  onResponse(status: number, bodyBytes: number, keepAlive: boolean): void;
  /** Body bytes `data[start, end)` (only with `collectBody`); valid during the call only. */
  onBody(data: Buffer, start: number, end: number): void;
}

export interface ResponseParserOptions {
  /** Hand body bytes to `onBody` (else they are only counted). */
  collectBody?: boolean;
  /** The requests are HEAD: no response has a body, whatever its headers say. */
  head?: boolean;
  /** Largest status line plus headers (and chunk-size lines, trailers) of one response. */
  maxHeaderBytes?: number;
}

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
/** Hex digits of a chunk size: 13 keep it below 2^53. */
const MAX_CHUNK_SIZE_DIGITS = 13;

const STATUS_LINE = 0;
const HEADER = 1;
const BODY_LENGTH = 2;
const BODY_UNTIL_CLOSE = 3;
const CHUNK_SIZE = 4;
const CHUNK_DATA = 5;
const CHUNK_DATA_END = 6;
const TRAILER = 7;
/** After a response that closes the connection: whatever follows is not read. */
const CLOSED = 8;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;

const CONTENT_LENGTH = Buffer.from("content-length");
const TRANSFER_ENCODING = Buffer.from("transfer-encoding");
const CONNECTION = Buffer.from("connection");
const CHUNKED = Buffer.from("chunked");
const CLOSE = Buffer.from("close");
const KEEP_ALIVE = Buffer.from("keep-alive");
const HTTP_1 = Buffer.from("HTTP/1.");

/** Whether `prefix` is at buf[start] (a loop: Buffer.compare's checks cost more on a few bytes). */
function startsWith(buf: Buffer, start: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

/** Whether buf[start, end) equals `lower` ignoring ASCII case (`lower` is lower-case). */
function equalsIgnoreCase(buf: Buffer, start: number, end: number, lower: Buffer): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[start + i]! | 0x20) !== lower[i]) return false;
  return true;
}

const isOws = (c: number | undefined) => c === SP || c === TAB;

/** The first index of buf[start, end) past its leading spaces and tabs. */
function skipOws(buf: Buffer, start: number, end: number): number {
  while (start < end && isOws(buf[start])) start++;
  return start;
}

/** The end of buf[start, end) without its trailing spaces and tabs. */
function trimOws(buf: Buffer, start: number, end: number): number {
  while (end > start && isOws(buf[end - 1])) end--;
  return end;
}

/** Whether buf[start, end), spaces and tabs around it ignored, is `token` (any case). */
function isToken(buf: Buffer, start: number, end: number, token: Buffer): boolean {
  const a = skipOws(buf, start, end);
  return equalsIgnoreCase(buf, a, trimOws(buf, a, end), token);
}

/** Whether the comma-separated list buf[start, end) has `token` (any case). */
function hasToken(buf: Buffer, start: number, end: number, token: Buffer): boolean {
  let from = start;
  for (let i = start; i <= end; i++) {
    if (i < end && buf[i] !== COMMA) continue;
    if (isToken(buf, from, i, token)) return true;
    from = i + 1;
  }
  return false;
}

/** Whether the last element of the comma-separated list buf[start, end) is `token` (any case). */
function lastTokenIs(buf: Buffer, start: number, end: number, token: Buffer): boolean {
  let from = end;
  while (from > start && buf[from - 1] !== COMMA) from--;
  return isToken(buf, from, end, token);
}

function badReply(why: string): EchoplexError {
  return new EchoplexError("ERR_BAD_REPLY", `bad HTTP response: ${why}`);
}

export class HttpResponseParser {
  private state = STATUS_LINE;
  /** A line begun in an earlier read, waiting for its LF. */
  private held: Buffer = Buffer.allocUnsafe(256);
  private heldLen = 0;
  private headerBytes = 0;
  private status = 0;
  /** The response's HTTP/1.x minor version. */
  private minor = 1;
  private contentLength = -1;
  private chunked = false;
  private transferEncoding = false;
  private closeAsked = false;
  private keepAliveAsked = false;
  /** Body bytes left in the body (Content-Length) or the current chunk. */
  private remaining = 0;
  private bodyBytes = 0;
  private readonly collect: boolean;
  private readonly head: boolean;
  private readonly maxHeaderBytes: number;

  constructor(
    private readonly sink: ResponseSink,
    options: ResponseParserOptions = {},
  ) {
    this.collect = options.collectBody === true;
    this.head = options.head === true;
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  /** Forgets everything (a new connection). */
  reset(): void {
    this.state = STATUS_LINE;
    this.heldLen = 0;
    this.startResponse();
  }

  /** Reads one chunk; throws ERR_BAD_REPLY on bytes that are not an HTTP/1.x response. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      const state = this.state;
      if (state === BODY_LENGTH || state === CHUNK_DATA || state === BODY_UNTIL_CLOSE) {
        const take = state === BODY_UNTIL_CLOSE ? n - pos : Math.min(this.remaining, n - pos);
        if (this.collect) this.sink.onBody(chunk, pos, pos + take);
        this.bodyBytes += take;
        pos += take;
        if (state === BODY_UNTIL_CLOSE) continue;
        this.remaining -= take;
        if (this.remaining > 0) continue;
        if (state === BODY_LENGTH) this.complete();
        else this.state = CHUNK_DATA_END;
        continue;
      }
      if (state === CLOSED) return;
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? n : lf;
      this.headerBytes += end - pos + 1;
      if (this.headerBytes > this.maxHeaderBytes)
        throw badReply(`headers longer than ${this.maxHeaderBytes} bytes`);
      if (lf === -1) {
        this.hold(chunk, pos, n);
        return;
      }
      if (this.heldLen > 0) {
        this.hold(chunk, pos, lf);
        const len = this.heldLen;
        this.heldLen = 0;
        this.line(this.held, 0, len);
      } else {
        this.line(chunk, pos, lf);
      }
      pos = lf + 1;
    }
  }

  /**
   * The connection closed. A body delimited by the close is complete now; whether a
   * response was cut off the caller sees from the request it still waits for.
   */
  end(): void {
    if (this.state === BODY_UNTIL_CLOSE) this.complete();
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    const need = this.heldLen + end - start;
    if (need > this.held.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.held.length * 2));
      this.held.copy(bigger, 0, 0, this.heldLen);
      this.held = bigger;
    }
    chunk.copy(this.held, this.heldLen, start, end);
    this.heldLen = need;
  }

  /** One line buf[start, end) without its LF (a CR before it is dropped here). */
  private line(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    switch (this.state) {
      case STATUS_LINE:
        // An empty line between responses is tolerated (RFC 9112, 2.2).
        if (end > start) this.statusLine(buf, start, end);
        return;
      case HEADER:
        if (end === start) this.headersDone();
        else this.header(buf, start, end);
        return;
      case CHUNK_SIZE:
        this.chunkSize(buf, start, end);
        // The header limit bounds each chunk's framing, not a long stream of chunks.
        this.headerBytes = 0;
        return;
      case CHUNK_DATA_END:
        if (end !== start) throw badReply("chunk data longer than its size");
        this.state = CHUNK_SIZE;
        this.headerBytes = 0;
        return;
      case TRAILER:
        if (end === start) this.complete();
        return;
    }
  }

  private startResponse(): void {
    this.headerBytes = 0;
    this.status = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.transferEncoding = false;
    this.closeAsked = false;
    this.keepAliveAsked = false;
    this.remaining = 0;
    this.bodyBytes = 0;
  }

  private statusLine(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    const d0 = buf[start + 9]! - 0x30;
    const d1 = buf[start + 10]! - 0x30;
    const d2 = buf[start + 11]! - 0x30;
    const minor = buf[start + 7]! - 0x30;
    if (
      len < 12 ||
      !startsWith(buf, start, HTTP_1) ||
      minor < 0 ||
      minor > 9 ||
      buf[start + 8] !== SP ||
      d0 < 1 ||
      d0 > 5 ||
      d1 < 0 ||
      d1 > 9 ||
      d2 < 0 ||
      d2 > 9 ||
      (len > 12 && buf[start + 12] !== SP)
    ) {
      const shown = JSON.stringify(buf.toString("latin1", start, Math.min(end, start + 40)));
      throw badReply(`status line ${shown}`);
    }
    this.status = d0 * 100 + d1 * 10 + d2;
    this.minor = minor;
    this.state = HEADER;
  }

  private header(buf: Buffer, start: number, end: number): void {
    const colon = buf.indexOf(COLON, start);
    if (colon === -1 || colon >= end || colon === start) throw badReply("a header line without a name");
    // Only three headers matter; the rest are passed over on their length and first letter.
    const first = buf[start]! | 0x20;
    if (first !== 0x63 && first !== 0x74) return;
    const v = colon + 1;
    if (equalsIgnoreCase(buf, start, colon, CONTENT_LENGTH)) this.lengthHeader(buf, v, end);
    else if (equalsIgnoreCase(buf, start, colon, TRANSFER_ENCODING)) {
      this.transferEncoding = true;
      // Only a last coding of chunked delimits the body (RFC 9112, 6.3); else it runs to the close.
      this.chunked = lastTokenIs(buf, v, end, CHUNKED);
    } else if (equalsIgnoreCase(buf, start, colon, CONNECTION)) {
      if (hasToken(buf, v, end, CLOSE)) this.closeAsked = true;
      if (hasToken(buf, v, end, KEEP_ALIVE)) this.keepAliveAsked = true;
    }
  }

  private lengthHeader(buf: Buffer, from: number, to: number): void {
    const start = skipOws(buf, from, to);
    const end = trimOws(buf, start, to);
    let value = 0;
    for (let i = start; i < end; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9 || value > Number.MAX_SAFE_INTEGER / 10) throw badReply("a bad Content-Length");
      value = value * 10 + d;
    }
    if (end === start) throw badReply("an empty Content-Length");
    if (this.contentLength !== -1 && this.contentLength !== value)
      throw badReply("two different Content-Lengths");
    this.contentLength = value;
  }

  private headersDone(): void {
    const status = this.status;
    if (status < 200) {
      // 101 would hand the connection to another protocol: nothing a load generator can go on with.
      if (status === 101) throw badReply("101 Switching Protocols");
      // An interim response (100 Continue, 103 Early Hints): the final one follows.
      this.state = STATUS_LINE;
      this.startResponse();
      return;
    }
    if (this.head || status === 204 || status === 304) this.complete();
    else if (this.chunked) this.state = CHUNK_SIZE;
    else if (this.transferEncoding || this.contentLength === -1) this.state = BODY_UNTIL_CLOSE;
    else if (this.contentLength === 0) this.complete();
    else {
      this.remaining = this.contentLength;
      this.state = BODY_LENGTH;
    }
  }

  private chunkSize(buf: Buffer, start: number, end: number): void {
    let size = 0;
    let i = start;
    for (; i < end; i++) {
      const c = buf[i]! | 0x20;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
      if (d < 0) break;
      size = size * 16 + d;
    }
    const digits = i - start;
    const rest = buf[i];
    if (
      digits === 0 ||
      digits > MAX_CHUNK_SIZE_DIGITS ||
      (i < end && rest !== 0x3b && rest !== SP && rest !== TAB)
    )
      throw badReply("a bad chunk size");
    if (size === 0) {
      this.state = TRAILER;
      return;
    }
    this.remaining = size;
    this.state = CHUNK_DATA;
  }

  private complete(): void {
    const keepAlive =
      this.state !== BODY_UNTIL_CLOSE && !this.closeAsked && (this.minor >= 1 || this.keepAliveAsked);
    const status = this.status;
    const bytes = this.bodyBytes;
    this.state = keepAlive ? STATUS_LINE : CLOSED;
    this.startResponse();
    this.sink.onResponse(status, bytes, keepAlive);
  }
}
