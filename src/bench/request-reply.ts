// The request/response load engine behind the echo and cmd modes: each connection
// keeps `pipeline` requests in flight (closed loop) or gets requests at their
// intended times from the pacer (open loop). Requests are written into a reused
// buffer and sent with one write per connection per read or pacer tick; replies
// are split by the project's codecs and checked in order against what was sent.
// Over a WebSocket each request is its own message and each message a reply.

import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { framingFor } from "../codecs/framing-for.js";
import { messages } from "../codecs/messages.js";
import type { Codec } from "../codecs/types.js";
import { everyTick } from "../core/ticker.js";
import { ConnRamp } from "./conn-ramp.js";
import type { ConnTarget, StopRule } from "./options.js";
import { Budget, paceOf, startPacer } from "./pacing.js";
import { Recorder } from "./recorder.js";
import type { Stage } from "./stages.js";
import {
  certificateRefused,
  clientCertOf,
  closeHard,
  connectFailure,
  dial,
  dialAll,
  errorKind,
  isTlsFailure,
  whereOf,
} from "./transport.js";

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

/** The framing a target imposes: a message transport has its own, whatever --framing says. */
export function framingOver(target: ConnTarget, framing: "lines" | "length"): PlanFraming {
  return target.transport === "ws" ? "messages" : framing;
}

export interface RequestReplyPlan {
  target: ConnTarget;
  framing: PlanFraming;
  conns: number;
  pipeline: number;
  rate: number;
  /** Open loop: the rate's shape, when it is not constant. */
  stages?: readonly Stage[];
  /** Keep each second's histogram (--hdr-log). */
  intervals?: boolean;
  /** Closed loop: how many connections carry load over time (the rest wait, open). */
  connStages?: readonly Stage[];
  stop: StopRule;
  timeoutMs: number;
  /** Largest reply accepted; a longer one is a protocol error on that connection. */
  maxReplyBytes: number;
  exchange(connIndex: number): Exchange;
}

/** Open-loop requests in flight on one connection beyond which new ones are dropped (and counted). */
const MAX_OPEN_LOOP_INFLIGHT = 65_536;
const MIN_BATCH_BYTES = 16 * 1024;
const DIAL_PARALLEL = 64;
/** How often a connection shape is followed. */
const RAMP_TICK_MS = 50;

class RunState {
  outstanding = 0;
  lastProgress = performance.now();
  constructor(
    readonly recorder: Recorder,
    readonly budget: Budget,
    readonly closedLoop: boolean,
  ) {}
}

class Pipe {
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
    plan: RequestReplyPlan,
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

export interface RunningBench {
  recorder: () => Recorder | undefined;
  done: Promise<Recorder>;
  /** Stops sending now; the run ends when outstanding replies are in (or time out). */
  halt(): void;
}

/** Connects, runs the load until the budget is spent and replies are in (or time out), closes. */
export function runRequestReply(plan: RequestReplyPlan): RunningBench {
  let recorder: Recorder | undefined;
  // A halt while the connections are still being dialed takes effect as soon as the run starts.
  let haltedEarly = false;
  let halt = () => {
    haltedEarly = true;
  };
  const done = (async () => {
    const failures: string[] = [];
    let firstFailure: unknown;
    // Each connection's bytes reach its pipe through a sink, set once the pipe exists.
    const sinks = Array.from({ length: plan.conns }, () => ({ onData: (_chunk: Buffer) => {} }));
    // With a connection shape, only what it needs at the start is dialed now; the rest on the ramp.
    const shape = plan.rate === 0 ? plan.connStages : undefined;
    const sockets = await dialAll(
      plan.target,
      shape === undefined ? plan.conns : ConnRamp.initial(shape, plan.conns),
      DIAL_PARALLEL,
      (err) => {
        firstFailure ??= err;
        failures.push(errorKind(err));
      },
      sinks,
    );
    const where = whereOf(plan.target);
    const connected = sockets.filter((s): s is Duplex => s !== undefined);
    if (connected.length === 0) throw connectFailure(firstFailure ?? "no connection", where);
    const rec = new Recorder(plan.stop, { uncorrected: plan.rate > 0, intervals: plan.intervals === true });
    recorder = rec;
    for (const kind of failures) rec.error(kind);
    const run = new RunState(rec, new Budget(plan.stop, rec.windowEnd), plan.rate === 0);
    const pipes: Pipe[] = [];

    // A refused client certificate (TLS 1.3) comes after the handshake, as an error or a close.
    let tlsRefusal: unknown;
    return await new Promise<Recorder>((resolve, reject) => {
      let finished = false;
      let stopPacer = () => {};
      const finish = () => {
        if (finished) return;
        finished = true;
        stopPacer();
        clearInterval(watchdog);
        if (rec.replies === 0 && pipes.every((p) => !p.alive)) {
          if (tlsRefusal !== undefined) {
            reject(connectFailure(tlsRefusal, where));
            return;
          }
          if (clientCertOf(plan.target) !== undefined) {
            reject(certificateRefused(where));
            return;
          }
        }
        for (const p of pipes) {
          if (p.alive && p.inflight > 0) rec.error("timeout");
          p.alive = false;
          closeHard(p.socket);
        }
        resolve(rec);
      };
      const checkDone = (now: number) => {
        if (run.outstanding === 0 && run.budget.spent(now)) finish();
        else if (pipes.every((p) => !p.alive)) finish();
      };
      /** Connection `slot`'s pipe: its bytes, its errors and its close wired to the run. */
      const attach = (socket: Duplex, slot: number): Pipe => {
        const pipe = new Pipe(slot, socket, plan.exchange(slot), run, plan);
        sinks[slot]!.onData = (chunk: Buffer) => {
          pipe.onData(chunk);
          if (run.outstanding === 0) checkDone(performance.now());
        };
        socket.on("error", (err) => {
          if (rec.replies === 0 && isTlsFailure(err)) tlsRefusal ??= err;
          pipe.fail(errorKind(err));
        });
        socket.on("close", () => {
          if (pipe.alive) {
            if (pipe.inflight > 0 || !run.budget.spent(performance.now())) pipe.fail("closed");
            else pipe.alive = false;
          }
          if (!finished) checkDone(performance.now());
        });
        return pipe;
      };
      sockets.forEach((socket, slot) => {
        if (socket !== undefined) pipes.push(attach(socket, slot));
      });
      halt = () => {
        const now = performance.now();
        run.budget.halt(now);
        rec.halt(now);
        stopPacer();
        checkDone(now);
      };
      if (haltedEarly) queueMicrotask(halt);
      const watchdog = setInterval(() => {
        const now = performance.now();
        checkDone(now);
        const stalled = now - run.lastProgress > plan.timeoutMs;
        if (stalled && run.outstanding > 0 && (run.closedLoop || run.budget.spent(now))) finish();
      }, 50);

      const start = performance.now();
      if (shape !== undefined) {
        const ramp = new ConnRamp(
          shape,
          plan.conns,
          pipes,
          {
            dial: (slot) =>
              dial(plan.target, plan.timeoutMs, sinks[slot]).then(
                (socket) => {
                  // A dial that completes after the run is closed at once.
                  if (!finished) return attach(socket, slot);
                  closeHard(socket);
                  return undefined;
                },
                (err: unknown) => {
                  if (!finished) rec.error(errorKind(err));
                  return undefined;
                },
              ),
            start: (pipe, now) => {
              run.lastProgress = now;
              while (pipe.alive && pipe.inflight < plan.pipeline && run.budget.take(now)) pipe.issue(now);
              pipe.flush();
            },
            level: (active) => {
              rec.activeConns = active;
            },
          },
          start,
        );
        ramp.apply(start);
        const ticking = everyTick(RAMP_TICK_MS, () => ramp.apply(performance.now()));
        stopPacer = () => {
          ramp.stop();
          ticking.stop();
        };
      } else if (run.closedLoop) {
        for (let k = 0; k < plan.pipeline; k++) {
          for (const pipe of pipes) if (run.budget.take(start)) pipe.issue(start);
        }
        for (const pipe of pipes) pipe.flush();
      } else {
        let next = 0;
        const dirty: Pipe[] = [];
        stopPacer = startPacer(
          paceOf(plan),
          run.budget,
          start,
          (at, now) => {
            for (let tries = 0; tries < pipes.length; tries++) {
              const pipe = pipes[next]!;
              next = (next + 1) % pipes.length;
              if (!pipe.alive) continue;
              if (pipe.inflight >= MAX_OPEN_LOOP_INFLIGHT) {
                rec.error("backlog");
                return;
              }
              if (!pipe.hasQueued) dirty.push(pipe);
              pipe.issue(at, now);
              return;
            }
          },
          () => {
            for (const pipe of dirty) pipe.flush();
            dirty.length = 0;
          },
        );
      }
      checkDone(start);
    });
  })();
  return { recorder: () => recorder, done, halt: () => halt() };
}
