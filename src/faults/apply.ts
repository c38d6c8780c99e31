// The write-side fault stage of one faulted connection (or one direction of a proxied
// one): each write (a reply, a batch of replies, a datagram) is dropped, corrupted,
// truncated, delayed, stalled, then written in slices or at a bandwidth, and may end
// in a reset or a FIN. Order is kept; input is held while too much waits here.
import type { FaultDirection, FaultKind } from "./parse.js";
import type { FaultRegistry } from "./registry.js";

/** Where a stage writes: a socket or stream (or an adapter around one's original methods). */
export interface FaultSink {
  write(chunk: Buffer, callback?: (err?: Error | null) => void): boolean;
  end(chunk: Buffer): unknown;
  destroy(): unknown;
  once(event: "drain", listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  resetAndDestroy?(): unknown;
}

/** What the stage tells its owner. */
export interface FaultHooks {
  /** A fault was applied to a write (counted and logged by the owner). */
  applied(kind: FaultKind): void;
  /** Too much waits in the stage: stop reading the input that produces it… */
  hold(): void;
  /** …and read again. */
  release(): void;
}

export interface FaultStageOptions {
  direction?: FaultDirection | "any";
  /** Hold the input while more than this waits here. */
  holdAboveBytes: number;
  /** Each write is a message (UDP, WebSocket): never split, only delayed or paced. */
  wholeMessages?: boolean;
}

type After = "none" | "close" | "reset";

interface Unit {
  data: Buffer;
  offset: number;
  /** When it may leave (performance.now()). */
  at: number;
  after: After;
}

/** Bandwidth is paced in pieces of 1/20 s worth of bytes. */
const PACE_PIECES_PER_SECOND = 20;
/** A pacer that fell behind (a late timer) may catch up this much at once, no more. */
const PACE_CATCH_UP_MS = 50;
/** How long after its reply left a reset is sent. */
const RESET_AFTER_MS = 20;
/** The pause between two slices, so that each leaves in its own segment. */
const SLICE_PAUSE_MS = 1;

export class FaultStage {
  private queue: Unit[] = [];
  private head = 0;
  private queuedBytes = 0;
  private lastAt = 0;
  private nextByteAt = 0;
  private stalledFor = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  private held = false;
  /** Reset or closed by a fault: nothing more is written. */
  private finished = false;
  private idle: Array<() => void> = [];
  private readonly direction: FaultDirection | "any";

  constructor(
    private readonly sink: FaultSink,
    private readonly registry: FaultRegistry,
    private readonly hooks: FaultHooks,
    private readonly options: FaultStageOptions,
  ) {
    this.direction = options.direction ?? registry.replyDirection;
  }

  /** Bytes waiting in the stage. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** One write. The stage keeps `data` until it leaves: pass a buffer nobody reuses. */
  write(data: Buffer): void {
    if (this.finished) return;
    const s = this.registry.settings(this.direction);
    if (s.none && this.head === this.queue.length && !this.waitingDrain) {
      if (!this.sink.write(data)) this.awaitDrain();
      return;
    }
    const { applied } = this.hooks;
    if (s.drop > 0 && Math.random() < s.drop) {
      applied("drop");
      return;
    }
    let unit = data;
    let after: After = "none";
    if (s.corrupt > 0 && unit.length > 0 && Math.random() < s.corrupt) {
      unit = Buffer.from(unit); // the original may be shared (one chat line, many readers)
      unit[Math.floor(Math.random() * unit.length)]! ^= 0xff;
      applied("corrupt");
    }
    if (s.truncate > 0 && unit.length > 0 && Math.random() < s.truncate) {
      unit = unit.subarray(0, Math.floor(Math.random() * unit.length));
      after = "close";
      applied("truncate");
    } else if (s.reset > 0 && Math.random() < s.reset) {
      after = "reset";
    } else if (s.close > 0 && Math.random() < s.close) {
      after = "close";
    }
    let delay = s.latencyMs;
    if (s.latencyMs > 0) applied("latency");
    if (s.jitterMs > 0) {
      delay = Math.max(0, delay + (Math.random() * 2 - 1) * s.jitterMs);
      applied("jitter");
    }
    if (s.stallMs > 0 && this.stalledFor !== s.stallId) {
      this.stalledFor = s.stallId;
      delay += s.stallMs;
      applied("stall");
    }
    if (s.sliceMax > 0 && !this.options.wholeMessages) applied("slice");
    if (s.bandwidth > 0) applied("bandwidth");
    // Never ahead of an earlier write: a shorter jitter must not reorder replies.
    const at = Math.max(performance.now() + delay, this.lastAt);
    this.lastAt = at;
    this.queue.push({ data: unit, offset: 0, at, after });
    this.queuedBytes += unit.length;
    if (!this.held && this.queuedBytes > this.options.holdAboveBytes) {
      this.held = true;
      this.hooks.hold();
    }
    if (this.timer === undefined && !this.waitingDrain) this.pump();
  }

  /** Runs `then` once everything queued has left (at once if nothing waits). */
  whenIdle(then: () => void): void {
    if (this.head === this.queue.length || this.finished) then();
    else this.idle.push(then);
  }

  private readonly pump = (): void => {
    this.timer = undefined;
    const { sink } = this;
    while (this.head < this.queue.length) {
      if (sink.destroyed || sink.writableEnded) {
        this.discard();
        return;
      }
      const unit = this.queue[this.head]!;
      const now = performance.now();
      if (unit.at > now) {
        this.wake(unit.at - now);
        return;
      }
      const s = this.registry.settings(this.direction);
      let size = unit.data.length - unit.offset;
      const whole = this.options.wholeMessages === true;
      if (s.sliceMax > 0 && !whole)
        size = Math.min(size, s.sliceMin + randomInt(s.sliceMax - s.sliceMin + 1));
      if (s.bandwidth > 0) {
        if (this.nextByteAt > now) {
          this.wake(this.nextByteAt - now);
          return;
        }
        if (!whole) size = Math.min(size, Math.max(1, Math.floor(s.bandwidth / PACE_PIECES_PER_SECOND)));
        this.nextByteAt = Math.max(this.nextByteAt, now - PACE_CATCH_UP_MS) + (size * 1000) / s.bandwidth;
      }
      const piece = unit.data.subarray(unit.offset, unit.offset + size);
      unit.offset += size;
      const done = unit.offset >= unit.data.length;
      if (done) {
        this.head++;
        this.queuedBytes -= unit.data.length;
      }
      if (done && unit.after !== "none") {
        this.finish(piece, unit.after);
        return;
      }
      if (!sink.write(piece)) {
        this.awaitDrain();
        return;
      }
      if (s.sliceMax > 0 && !whole && this.head < this.queue.length) {
        this.wake(SLICE_PAUSE_MS);
        return;
      }
    }
    this.emptied();
  };

  /** The sink is full: hold the input until it drains (the engine, or a proxy's other side). */
  private awaitDrain(): void {
    this.waitingDrain = true;
    if (!this.held) {
      this.held = true;
      this.hooks.hold();
    }
    this.sink.once("drain", this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    if (this.timer === undefined) this.pump();
  };

  private wake(ms: number): void {
    this.timer = setTimeout(this.pump, Math.max(1, Math.ceil(ms)));
    // A stalled or paced write must not keep a process alive on its own.
    this.timer.unref();
  }

  /** The last piece of a write a fault ends the connection after: a FIN, or a reset once it left. */
  private finish(piece: Buffer, after: After): void {
    this.finished = true;
    const { sink } = this;
    if (after === "close") {
      this.hooks.applied("close");
      sink.end(piece);
    } else {
      this.hooks.applied("reset");
      // The reset waits a moment after the reply left: a reset that overtakes the reply
      // in the peer's receive queue reads there as a plain end of stream half the time.
      sink.write(piece, () => setTimeout(() => resetNow(sink), RESET_AFTER_MS).unref());
    }
    this.discard();
  }

  private discard(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.emptied();
  }

  private emptied(): void {
    if (this.head > 0) {
      this.queue = [];
      this.head = 0;
    }
    if (this.held) {
      this.held = false;
      this.hooks.release();
    }
    const idle = this.idle;
    this.idle = [];
    for (const then of idle) then();
  }
}

/** An RST where the stream can send one (TCP), else an abrupt close. */
function resetNow(sink: FaultSink): void {
  if (typeof sink.resetAndDestroy === "function") sink.resetAndDestroy();
  else sink.destroy();
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}
