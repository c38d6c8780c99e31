// Message framing, for transports that carry whole messages (a WebSocket message, a
// UDP datagram): each chunk pushed is one message, and each message encodes to exactly
// one buffer, so that the transport sends it as one message (the engine writes each
// on its own for these transports, never joining two).
import { EchoplexError } from "../errors.js";
import type { Codec, Framing, MessageCallback } from "./types.js";

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

class MessageCodec implements Codec {
  readonly bufferedBytes = 0;
  constructor(
    private readonly onMessage: MessageCallback,
    private readonly maxBytes: number,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length > this.maxBytes) {
      throw new EchoplexError(
        "ERR_FRAME_TOO_LARGE",
        `message of ${chunk.length} bytes exceeds ${this.maxBytes} bytes`,
      );
    }
    this.onMessage(chunk);
  }

  end(): void {}

  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number {
    // One buffer per message: the prefix is copied in front rather than sent as a part.
    const message = prefix === undefined || prefix.length === 0 ? payload : Buffer.concat([prefix, payload]);
    out.push(message);
    return message.length;
  }
}

/** Whole messages of up to `maxBytes` (default 64 KiB); an empty message is a message. */
export function messages(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Framing {
  return {
    name: "messages",
    maxMessageBytes: maxBytes,
    create: (onMessage) => new MessageCodec(onMessage, maxBytes),
  };
}
