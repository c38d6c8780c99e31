// The client's side of a framing: how one outgoing message is framed, a codec (from
// src/codecs) that splits the server's bytes into replies, and how a reply is printed.
// `messages` is the framing of the doors that carry whole messages (WebSocket, UDP).
import { framingFor } from "../codecs/framing-for.js";
import { encodeFrame } from "../codecs/length-prefixed.js";
import { messages } from "../codecs/messages.js";
import type { Codec, MessageCallback } from "../codecs/types.js";

export type ClientFraming = "lines" | "length" | "messages";

const LF = Buffer.from("\n");

/** Appends the bytes of one framed message to `out` (views, no copy of the payload for lines). */
export function frameMessage(framing: ClientFraming, payload: Buffer, out: Buffer[]): void {
  if (framing === "length") out.push(encodeFrame(payload));
  // A message leaves later, on its own: a copy, as the input decoder reuses its buffer.
  else if (framing === "messages") out.push(Buffer.from(payload));
  else out.push(payload, LF);
}

/** A decoder of the server's replies; throws a typed error above `maxReplyBytes`. */
export function replyDecoder(framing: ClientFraming, maxReplyBytes: number, onReply: MessageCallback): Codec {
  if (framing === "messages") return messages(maxReplyBytes).create(onReply);
  return framingFor(framing, maxReplyBytes).create(onReply);
}

/**
 * A reply as one printed line: a message that already ends with its newline (a server
 * written for `nc -u` sends one) gets no second one, so it is one line, not two.
 */
export function replyLine(framing: ClientFraming, reply: Buffer, out: Buffer[]): void {
  if (framing === "messages" && reply.at(-1) === 0x0a) out.push(reply);
  else out.push(reply, LF);
}

/** The text of a reply without the newline a message may end with (a line shown after `< `). */
export function replyText(framing: ClientFraming, reply: Buffer): Buffer {
  if (framing !== "messages" || reply.at(-1) !== 0x0a) return reply;
  const cut = reply.length >= 2 && reply[reply.length - 2] === 0x0d ? 2 : 1;
  return reply.subarray(0, reply.length - cut);
}
