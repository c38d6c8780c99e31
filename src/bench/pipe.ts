// One connection of the request/response engine: requests written into a reused
// buffer and sent with one write per flush, replies split by the project's codecs and
// checked in order against what was sent, latency recorded per reply.

import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { framingFor } from "../codecs/framing-for.js";
import { messages } from "../codecs/messages.js";
import type { Codec } from "../codecs/types.js";
import type { Budget } from "./pacing.js";
import type { Recorder } from "./recorder.js";
import { closeHard, errorKind } from "./transport.js";

/** One connection's protocol: how request `seq` looks and what its reply must be. */
export interface Exchange {
  /** Largest request frame, in bytes. */
  readonly maxRequestBytes: number;
  /** Writes request `seq` (framed) at `out[offset]` and returns its length. */
  writeRequest(out: Buffer, offset: number, seq: number): number;
  /** Whether `reply` (the payload, framing removed) is the right answer to request `seq`. */
  checkReply(reply: Buffer, seq: number): boolean;
  describeMismatch(reply: Buffer, seq: number): string;
}

/** How requests and replies are delimited: a whole message each over WebSocket. */
export type PlanFraming = "lines" | "length" | "messages";

/** What a pipe needs of the run's plan. */
export interface PipeSettings {
  framing: PlanFraming;
  pipeline: number;
  /** Largest reply accepted; a longer one is a protocol error on that connection. */
  maxReplyBytes: number;
}

const MIN_BATCH_BYTES = 16 * 1024;

export class RunState {
  outstanding = 0;
  lastProgress = performance.now();
  constructor(
    readonly recorder: Recorder,
    readonly budget: Budget,
    readonly closedLoop: boolean,
  ) {}
}

export class Pipe {
  sendSeq = 0;
  recvSeq = 0;
  alive = true;
  /** Closed loop: sends the next request when a reply comes (off: the connection waits). */
  active = true;
  private sentAt: Float64Array;
  /** Open loop: when each request actually went out (sentAt is when it was due). */
  private actualAt: Float64Array | undefined;
  private mask: number;
  private out: Buffer;
  private outLen = 0;
  /** The last view of `out` handed to write, reused while a write has the same length (ping-pong). */
  private outView: Buffer | undefined;
  /** When the chunk being read arrived: one clock read per chunk, however many replies it holds. */
  private readAt = 0;
  private readonly codec: Codec;
  private readonly framingBytes: number;
  /** Each request leaves at once as one message (a WebSocket): no batching. */
  private readonly messageMode: boolean;

  constructor(
    /** Its index among the run's connections. */
    readonly slot: number,
    readonly socket: Duplex,
    private readonly exchange: Exchange,
    private readonly run: RunState,
    plan: PipeSettings,
  ) {
    let size = 2;
    while (size < plan.pipeline * 2) size *= 2;
    this.sentAt = new Float64Array(size);
    if (!run.closedLoop) this.actualAt = new Float64Array(size);
    this.mask = size - 1;
    this.out = Buffer.allocUnsafe(Math.max(MIN_BATCH_BYTES, exchange.maxRequestBytes * plan.pipeline));
    this.messageMode = plan.framing === "messages";
    this.framingBytes = plan.framing === "length" ? 4 : plan.framing === "lines" ? 1 : 0;
    const framing =
      plan.framing === "messages"
        ? messages(plan.maxReplyBytes)
        : framingFor(plan.framing, plan.maxReplyBytes);
    this.codec = framing.create((reply) => this.onReply(reply));
  }

  /** Requests are waiting for the next flush. */
  get hasQueued(): boolean {
    return this.outLen > 0;
  }

  get inflight(): number {
    return this.sendSeq - this.recvSeq;
  }

  /** Queues request `sendSeq`, stamped with its intended send time and the actual one. */
  issue(at: number, now = at): void {
    if (this.inflight > this.mask) this.grow();
    if (this.messageMode) {
      // The message owns its bytes: the link may still hold it when the next request is written.
      const len = this.exchange.writeRequest(this.out, 0, this.sendSeq);
      if (this.alive) this.socket.write(Buffer.from(this.out.subarray(0, len)));
    } else {
      if (this.outLen + this.exchange.maxRequestBytes > this.out.length) this.flush();
      this.outLen += this.exchange.writeRequest(this.out, this.outLen, this.sendSeq);
    }
    this.sentAt[this.sendSeq & this.mask] = at;
    if (this.actualAt !== undefined) this.actualAt[this.sendSeq & this.mask] = now;
    this.sendSeq++;
    this.run.outstanding++;
    this.run.recorder.onSent(at);
  }

  /**
   * Writes every queued request in one write, with no callback (no closure, no bookkeeping
   * per write). A write the kernel took whole leaves nothing queued in the stream
   * (writableLength 0): the buffer is free again at once. Otherwise the stream keeps it
   * until sent, and the next requests go into a new one.
   */
  flush(): void {
    const len = this.outLen;
    if (len === 0 || !this.alive) return;
    let view = this.outView;
    if (view === undefined || view.length !== len) view = this.outView = this.out.subarray(0, len);
    this.outLen = 0;
    this.socket.write(view);
    if (this.socket.writableLength > 0) {
      this.out = Buffer.allocUnsafe(this.out.length);
      this.outView = undefined;
    }
  }

  onData(chunk: Buffer): void {
    this.readAt = performance.now();
    try {
      this.codec.push(chunk);
    } catch (err) {
      this.fail(errorKind(err));
      return;
    }
    this.flush();
  }

  private onReply(reply: Buffer): void {
    const run = this.run;
    const now = this.readAt;
    if (this.recvSeq >= this.sendSeq) {
      run.recorder.error("unsolicited");
      return;
    }
    const seq = this.recvSeq++;
    run.outstanding--;
    run.lastProgress = now;
    const good = this.exchange.checkReply(reply, seq);
    if (!good) run.recorder.mismatch(() => this.exchange.describeMismatch(reply, seq));
    run.recorder.onReply(
      now,
      now - this.sentAt[seq & this.mask]!,
      reply.length + this.framingBytes,
      good ? "ok" : "mismatch",
      this.actualAt === undefined ? -1 : now - this.actualAt[seq & this.mask]!,
    );
    if (run.closedLoop && this.active && run.budget.take(now)) this.issue(now);
  }

  /** The connection is unusable: count why; its outstanding requests become lost. */
  fail(kind: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.run.outstanding -= this.inflight;
    this.run.recorder.error(kind);
    closeHard(this.socket);
  }

  private grow(): void {
    const size = this.sentAt.length * 2;
    const regrow = (old: Float64Array) => {
      const next = new Float64Array(size);
      for (let s = this.recvSeq; s < this.sendSeq; s++) next[s & (size - 1)] = old[s & this.mask]!;
      return next;
    };
    this.sentAt = regrow(this.sentAt);
    if (this.actualAt !== undefined) this.actualAt = regrow(this.actualAt);
    this.mask = size - 1;
  }
}
