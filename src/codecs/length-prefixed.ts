// Length-prefixed framing: a 4-byte big-endian length, then that many bytes.
// The claimed length is checked against the limit before anything is allocated.
import { EchoplexError } from "../errors.js";
import type { Codec, Framing, MessageCallback } from "./types.js";

const HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
/** First allocation for a frame body split across chunks; it doubles from there. */
const MIN_BODY = 4096;

export interface LengthPrefixedOptions {
  /** Largest payload accepted, in bytes (the header not included). Default 64 KiB. */
  maxLength?: number;
}

function frameTooLarge(claimed: number, maxLength: number): EchoplexError {
  return new EchoplexError("ERR_FRAME_TOO_LARGE", `frame of ${claimed} bytes exceeds ${maxLength} bytes`);
}

/** Encodes one frame as a new Buffer (for clients and tests; servers use the codec). */
export function encodeFrame(payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

class LengthPrefixedCodec implements Codec {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  /**
   * Body of the frame being assembled across chunks, or undefined between frames. It
   * grows with the bytes that actually arrive (doubling, up to the claimed length): a
   * 4-byte header alone must not make the server allocate the whole frame.
   */
  private body: Buffer | undefined;
  private bodyFill = 0;
  /** The claimed length of the frame being assembled. */
  private bodyLength = 0;

  constructor(
    private readonly maxLength: number,
    private readonly onMessage: MessageCallback,
  ) {}

  get bufferedBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  push(chunk: Buffer): void {
    let off = 0;
    const size = chunk.length;
    while (off < size) {
      if (this.body !== undefined) {
        const take = Math.min(this.bodyLength - this.bodyFill, size - off);
        this.reserve(this.bodyFill + take);
        chunk.copy(this.body, this.bodyFill, off, off + take);
        this.bodyFill += take;
        off += take;
        if (this.bodyFill < this.bodyLength) return;
        const frame =
          this.body.length === this.bodyLength ? this.body : this.body.subarray(0, this.bodyLength);
        this.body = undefined;
        this.bodyFill = 0;
        this.bodyLength = 0;
        this.onMessage(frame);
        continue;
      }
      let length: number;
      if (this.headerFill === 0 && size - off >= HEADER_BYTES) {
        length = chunk.readUInt32BE(off);
        off += HEADER_BYTES;
      } else {
        const take = Math.min(HEADER_BYTES - this.headerFill, size - off);
        chunk.copy(this.header, this.headerFill, off, off + take);
        this.headerFill += take;
        off += take;
        if (this.headerFill < HEADER_BYTES) return;
        this.headerFill = 0;
        length = this.header.readUInt32BE(0);
      }
      if (length > this.maxLength) throw frameTooLarge(length, this.maxLength);
      if (size - off >= length) {
        const frame = chunk.subarray(off, off + length);
        off += length;
        this.onMessage(frame);
      } else {
        this.bodyLength = length;
        this.bodyFill = 0;
        this.body = Buffer.allocUnsafe(Math.min(length, Math.max(MIN_BODY, size - off)));
      }
    }
  }

  /** Grows the body buffer to hold `need` bytes (never past the claimed length). */
  private reserve(need: number): void {
    const body = this.body!;
    if (body.length >= need) return;
    const grown = Buffer.allocUnsafe(Math.min(this.bodyLength, Math.max(need, body.length * 2)));
    body.copy(grown, 0, 0, this.bodyFill);
    this.body = grown;
  }

  end(): void {
    // A frame cut off by the end of the stream is not a message; drop it.
    this.body = undefined;
    this.bodyFill = 0;
    this.bodyLength = 0;
    this.headerFill = 0;
  }

  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number {
    const prefixLength = prefix === undefined ? 0 : prefix.length;
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32BE(prefixLength + payload.length, 0);
    out.push(header);
    if (prefixLength > 0) out.push(prefix!);
    out.push(payload);
    return HEADER_BYTES + prefixLength + payload.length;
  }
}

/** 4-byte big-endian length-prefixed framing with a maximum payload size. */
export function lengthPrefixed(options: LengthPrefixedOptions = {}): Framing {
  const maxLength = options.maxLength ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(maxLength) || maxLength < 0 || maxLength > 0xffffffff) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `max frame size must be an integer from 0 to 2^32-1, got ${maxLength}`,
    );
  }
  return {
    name: "length",
    maxMessageBytes: maxLength,
    create: (onMessage) => new LengthPrefixedCodec(maxLength, onMessage),
  };
}
