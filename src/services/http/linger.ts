// Lingering close for the HTTP responder: after the last answer, half-close and keep
// reading (and discarding) what the peer still sends, for a bounded time and volume,
// before the socket is destroyed. Destroying a socket with unread input makes the
// kernel send a reset, which can destroy an answer the peer has not read yet. The time
// limit runs from when the answer has left the socket for the kernel: a client slow to
// read must not lose the answer that a timer destroyed with the socket.
import type { Socket } from "node:net";
import { coarseClock } from "../../core/clock.js";
import { abortSocket } from "../../core/linger.js";
import { everyTick, type TickTask } from "../../core/ticker.js";

export interface LingerLimits {
  /** Destroy the socket this long after everything written reached the kernel, at the latest. */
  lingerMs: number;
  /** Stop reading (not destroy: the peer may still be reading) after discarding this much. */
  lingerBytes: number;
  /** Reset a connection whose answer has not reached the kernel this long after the close (0: no bound). */
  flushMs: number;
}

/** How a lingering close ended ("unsent": the peer did not read its answer within `flushMs`). */
export type LingerEnd = "peer closed" | "time" | "unsent";

const kLinger = Symbol("echoplex.linger");

interface LingerState {
  readonly owner: Lingerer;
  /** Infinity until the socket has handed everything to the kernel ('finish'). */
  deadline: number;
  /** Until then, the bound on that wait. */
  readonly flushDeadline: number;
  /** Bytes still in the socket when `flushDeadline` passed (then it is reset). */
  unsent: number | undefined;
  discarded: number;
  /** Reading stopped at `lingerBytes`; the socket waits for its deadline. */
  capped: boolean;
}

type LingerSocket = Socket & { [kLinger]?: LingerState };

/**
 * Lingering sockets, with one sweep for all of them on the shared ticker (running only
 * while there are some). Deadlines are on the coarse clock the ticker keeps.
 */
export class Lingerer {
  /** Closes that ran out of time or bytes: the peer kept sending after the answer (or did not read it). */
  cutOff = 0;
  /** Lingering closes started. */
  started = 0;
  private readonly sockets = new Set<LingerSocket>();
  private sweepTask: TickTask | undefined;

  constructor(
    readonly limits: LingerLimits,
    private readonly ended: (socket: Socket, how: LingerEnd, bytes: number) => void = noop,
  ) {}

  get size(): number {
    return this.sockets.size;
  }

  has(socket: Socket): boolean {
    return (socket as LingerSocket)[kLinger] !== undefined;
  }

  /**
   * Sends `last` (if given), half-closes, and discards input until the peer closes or
   * the limits run out. Safe to call twice (the second call does nothing).
   */
  close(socket: Socket, last?: string | Buffer): void {
    const s = socket as LingerSocket;
    if (s[kLinger] !== undefined) return;
    if (s.destroyed) return;
    // Started first: it ticks the coarse clock, which may have stood still while no task ran.
    this.startSweep();
    const now = coarseClock.now;
    const state: LingerState = {
      owner: this,
      deadline: Number.POSITIVE_INFINITY,
      flushDeadline: this.limits.flushMs > 0 ? now + this.limits.flushMs : Number.POSITIVE_INFINITY,
      unsent: undefined,
      discarded: 0,
      capped: false,
    };
    s[kLinger] = state;
    this.started++;
    this.sockets.add(s);
    s.on("error", noop);
    // node:http feeds the socket to its parser (natively, or through its own 'data'
    // listener): without it, input reaches only the discarding listener below. Adding a
    // 'data' listener is also what makes node:http hand a natively consumed socket back.
    s.removeAllListeners("data");
    s.on("data", onLingerData);
    s.once("close", onLingerClose);
    if (last !== undefined) s.end(last);
    else if (!s.writableEnded) s.end();
    if (s.writableFinished) state.deadline = now + this.limits.lingerMs;
    else s.once("finish", onLingerFinish);
    s.resume();
  }

  /**
   * Ends every lingering close now (shutdown's force path); a connection whose answer
   * has not all left is reset, not closed as if complete. Returns the bytes so dropped.
   */
  destroyAll(): number {
    let unsent = 0;
    for (const s of this.sockets) {
      if (s.destroyed) continue;
      unsent += s.writableLength;
      if (s.writableLength > 0) abortSocket(s);
      else s.destroy();
    }
    return unsent;
  }

  /** @internal */
  forget(s: LingerSocket, state: LingerState): void {
    if (!this.sockets.delete(s)) return;
    const how: LingerEnd =
      state.unsent !== undefined
        ? "unsent"
        : state.capped || coarseClock.now >= state.deadline
          ? "time"
          : "peer closed";
    if (how !== "peer closed") this.cutOff++;
    this.ended(s, how, how === "unsent" ? state.unsent! : state.discarded);
    if (this.sockets.size === 0 && this.sweepTask !== undefined) {
      this.sweepTask.stop();
      this.sweepTask = undefined;
    }
  }

  private startSweep(): void {
    if (this.sweepTask !== undefined) return;
    const every = Math.max(20, Math.min(250, Math.floor(this.limits.lingerMs / 4)));
    // One periodic check for every lingering socket rather than a timer per socket.
    this.sweepTask = everyTick(every, (now) => this.sweep(now));
  }

  private sweep(now: number): void {
    for (const s of this.sockets) {
      const state = s[kLinger];
      if (state === undefined) continue;
      if (now >= state.deadline) s.destroy();
      else if (now >= state.flushDeadline && state.deadline === Number.POSITIVE_INFINITY) {
        // Everything written, only the FIN's own completion pending: nothing to lose.
        if (s.writableLength === 0) state.deadline = now + this.limits.lingerMs;
        else {
          state.unsent = s.writableLength;
          abortSocket(s);
        }
      }
    }
  }
}

function onLingerData(this: LingerSocket, chunk: Buffer): void {
  const state = this[kLinger];
  if (state === undefined) return;
  if (state.capped) {
    // Something resumed reading after the cap (node:http's own drain handling): stop again.
    this.pause();
    return;
  }
  state.discarded += chunk.length;
  if (state.discarded >= state.owner.limits.lingerBytes) {
    // Reading no more costs nothing; the peer's input now waits in the kernel until the deadline.
    state.capped = true;
    this.pause();
  }
}

function onLingerFinish(this: LingerSocket): void {
  const state = this[kLinger];
  if (state !== undefined) state.deadline = coarseClock.now + state.owner.limits.lingerMs;
}

function onLingerClose(this: LingerSocket): void {
  const state = this[kLinger];
  if (state !== undefined) state.owner.forget(this, state);
}

function noop(): void {}
