// Cmd mode: the same request line (or frame) again and again, e.g. PING against
// redis-server's inline protocol; replies are counted, and checked with --expect.
import { encodeFrame } from "../../codecs/length-prefixed.js";
import type { CmdBenchOptions } from "../options.js";
import { type Exchange, framingOver, type RequestReplyPlan } from "../request-reply.js";

const show = (b: Buffer) => JSON.stringify(b.subarray(0, 100).toString("latin1"));

class CmdExchange implements Exchange {
  readonly maxRequestBytes: number;

  constructor(
    private readonly request: Buffer,
    private readonly expected: Buffer | undefined,
  ) {
    this.maxRequestBytes = request.length;
  }

  writeRequest(out: Buffer, offset: number): number {
    return this.request.copy(out, offset);
  }

  checkReply(reply: Buffer): boolean {
    return this.expected === undefined || reply.equals(this.expected);
  }

  describeMismatch(reply: Buffer, seq: number): string {
    return `reply ${seq}: got ${show(reply)}, expected ${show(this.expected ?? Buffer.alloc(0))}`;
  }
}

export function cmdPlan(options: CmdBenchOptions): RequestReplyPlan {
  const framing = framingOver(options.target, options.framing);
  const request =
    framing === "messages"
      ? Buffer.from(options.message)
      : framing === "length"
        ? encodeFrame(options.message)
        : Buffer.from(`${options.message}\r\n`);
  const expected = options.expect === undefined ? undefined : Buffer.from(options.expect);
  const exchange = new CmdExchange(request, expected);
  return {
    ...options,
    framing,
    maxReplyBytes: Math.max(64 * 1024, (expected?.length ?? 0) + 1024),
    exchange: () => exchange,
  };
}
