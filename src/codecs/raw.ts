// Raw framing: every chunk is a message and is sent back as is (RFC 862 echo).
import type { Codec, Framing, MessageCallback } from "./types.js";

class RawCodec implements Codec {
  readonly bufferedBytes = 0;
  constructor(private readonly onMessage: MessageCallback) {}

  push(chunk: Buffer): void {
    if (chunk.length > 0) this.onMessage(chunk);
  }

  end(): void {}

  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number {
    if (prefix !== undefined && prefix.length > 0) {
      out.push(prefix, payload);
      return prefix.length + payload.length;
    }
    out.push(payload);
    return payload.length;
  }
}

/** Raw bytes: no framing, no limit beyond the size of one read. */
export function raw(): Framing {
  return {
    name: "raw",
    maxMessageBytes: Number.POSITIVE_INFINITY,
    create: (onMessage) => new RawCodec(onMessage),
  };
}
