// Echo mode: every request carries its sequence number, and every reply must be
// exactly the prefix plus that request, so lost, reordered or altered replies
// are counted as mismatches. The prefix can be learnt from a probe line.
import { randomBytes } from "node:crypto";
import { framingFor } from "../../codecs/framing-for.js";
import { encodeFrame } from "../../codecs/length-prefixed.js";
import { messages } from "../../codecs/messages.js";
import { EchoplexError } from "../../errors.js";
import type { ConnTarget, EchoBenchOptions } from "../options.js";
import { type Exchange, framingOver, type PlanFraming, type RequestReplyPlan } from "../request-reply.js";
import { certificateRefused, clientCertOf, closeHard, connectFailure, dial, whereOf } from "../transport.js";

/** Digits of the sequence number at the start of each payload (fixed width, wrapping). */
export const SEQ_DIGITS = 12;

function putDigits(buf: Buffer, at: number, width: number, seq: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    buf[i] = 0x30 + (seq % 10);
    seq = Math.floor(seq / 10);
  }
}

/**
 * Adds one to the decimal digits buf[at, at+width), wrapping at 10^width as putDigits does.
 * Sequence numbers go up by one per request, so this touches one digit most of the time
 * where putDigits divides twelve times.
 */
function incrementDigits(buf: Buffer, at: number, width: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    if (buf[i] !== 0x39) {
      buf[i]!++;
      return;
    }
    buf[i] = 0x30;
  }
}

/** Decimal digits kept equal to a sequence number inside a buffer, stepped by one when they can be. */
export class SeqDigits {
  private seq = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly at: number,
    private readonly width: number,
  ) {
    putDigits(buf, at, width, 0);
  }

  set(seq: number): void {
    if (seq === this.seq) return;
    if (seq === this.seq + 1) incrementDigits(this.buf, this.at, this.width);
    else putDigits(this.buf, this.at, this.width, seq);
    this.seq = seq;
  }
}

/** The payload template of connection `index`: sequence digits, then letters or the message. */
export function echoPayload(spec: EchoBenchOptions["payload"], index: number): Buffer {
  if ("message" in spec) {
    const payload = Buffer.from(`${"0".repeat(SEQ_DIGITS)} ${spec.message}`);
    return payload;
  }
  const payload = Buffer.allocUnsafe(spec.size);
  for (let j = 0; j < spec.size; j++) payload[j] = 0x61 + ((j + index) % 26);
  return payload;
}

function frame(framing: PlanFraming, payload: Buffer): Buffer {
  if (framing === "messages") return Buffer.from(payload);
  return framing === "length" ? encodeFrame(payload) : Buffer.concat([payload, Buffer.from("\n")]);
}

export const show = (b: Buffer) => JSON.stringify(b.subarray(0, 100).toString("latin1"));

class EchoExchange implements Exchange {
  readonly maxRequestBytes: number;
  private readonly request: Buffer;
  private readonly expected: Buffer;
  /** The digits inside `request` and `expected`: requests and replies each count up by one. */
  private readonly requestSeq: SeqDigits;
  private readonly expectedSeq: SeqDigits;

  constructor(payload: Buffer, prefix: Buffer, framing: PlanFraming) {
    this.request = frame(framing, payload);
    this.maxRequestBytes = this.request.length;
    this.expected = Buffer.concat([prefix, payload]);
    const digits = Math.min(SEQ_DIGITS, payload.length);
    this.requestSeq = new SeqDigits(this.request, framing === "length" ? 4 : 0, digits);
    this.expectedSeq = new SeqDigits(this.expected, prefix.length, digits);
  }

  writeRequest(out: Buffer, offset: number, seq: number): number {
    this.requestSeq.set(seq);
    this.request.copy(out, offset);
    return this.request.length;
  }

  checkReply(reply: Buffer, seq: number): boolean {
    this.expectedSeq.set(seq);
    return reply.equals(this.expected);
  }

  describeMismatch(reply: Buffer, seq: number): string {
    this.expectedSeq.set(seq);
    return `reply ${seq}: got ${show(reply)}, expected ${show(this.expected)}`;
  }
}

/** Sends one probe message and returns what its reply carries before it. */
export async function probePrefix(
  target: ConnTarget,
  framing: PlanFraming,
  timeoutMs = 5000,
): Promise<string> {
  const probe = probeText();
  const where = whereOf(target);
  const socket = await dial(target, timeoutMs).catch((err: unknown) => {
    throw connectFailure(err, where);
  });
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const codec = (framing === "messages" ? messages() : framingFor(framing)).create((msg) =>
        resolve(Buffer.from(msg)),
      );
      const timer = setTimeout(
        () => reject(new EchoplexError("ERR_TIMEOUT", "probe: no reply within 5 s")),
        timeoutMs,
      );
      socket.on("data", (chunk: Buffer) => {
        try {
          codec.push(chunk);
        } catch (err) {
          reject(err);
        }
      });
      socket.once("close", () => {
        clearTimeout(timer);
        reject(
          clientCertOf(target) === undefined
            ? new EchoplexError("ERR_CONNECTION_CLOSED", "probe: the server closed the connection")
            : certificateRefused(where),
        );
      });
      // After a TLS 1.3 handshake, a refused client certificate arrives here as an alert.
      socket.once("error", (err) => reject(connectFailure(err, where)));
      socket.write(frame(framing, probe));
    });
    return prefixOf(reply, probe);
  } finally {
    closeHard(socket);
  }
}

/** A probe payload no server would send on its own. */
export function probeText(): Buffer {
  return Buffer.from(`probe-${randomBytes(6).toString("hex")}`);
}

/** What an echo reply carries before the probe it echoes. */
export function prefixOf(reply: Buffer, probe: Buffer): string {
  const at = reply.length - probe.length;
  if (at < 0 || !reply.subarray(at).equals(probe)) {
    throw new EchoplexError(
      "ERR_BAD_REPLY",
      `probe: reply ${show(reply)} does not end with the probe ${show(probe)}; give --prefix`,
    );
  }
  return reply.subarray(0, at).toString();
}

export function echoPlan(
  options: EchoBenchOptions & { target: ConnTarget; prefix: string },
): RequestReplyPlan {
  const prefix = Buffer.from(options.prefix);
  const template = echoPayload(options.payload, 0);
  const framing = framingOver(options.target, options.framing);
  return {
    ...options,
    framing,
    maxReplyBytes: prefix.length + template.length + 1024,
    exchange: (i) => new EchoExchange(echoPayload(options.payload, i), prefix, framing),
  };
}
