// The client's side of a framing: how one outgoing message is framed, and a codec
// (from src/codecs) that splits the server's bytes into replies.
import { framingFor } from "../codecs/framing-for.js";
import { encodeFrame } from "../codecs/length-prefixed.js";
import type { Codec, MessageCallback } from "../codecs/types.js";

export type ClientFraming = "lines" | "length";

const LF = Buffer.from("\n");

/** Appends the bytes of one framed message to `out` (views, no copy of the payload for lines). */
export function frameMessage(framing: ClientFraming, payload: Buffer, out: Buffer[]): void {
  if (framing === "length") out.push(encodeFrame(payload));
  else out.push(payload, LF);
}

/** A decoder of the server's replies; throws a typed error above `maxReplyBytes`. */
export function replyDecoder(framing: ClientFraming, maxReplyBytes: number, onReply: MessageCallback): Codec {
  return framingFor(framing, maxReplyBytes).create(onReply);
}
