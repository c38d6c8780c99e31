// The write side of the engine: replies queued by Connection.send leave in one batch
// per read, or once per event-loop turn for those produced elsewhere (chat fan-out,
// asynchronous replies); backpressure pauses a peer that does not read them; a close
// sends what is queued, then half-closes and lingers.

import { coarseClock } from "./clock.js";
import type { CloseReason, Connection, EngineLink } from "./connection.js";
import type { EngineContext } from "./context.js";
import type { Handler, LatencyRecorder } from "./contract.js";
import { faultedFlush } from "./fault-hook.js";
import type { Limits } from "./limits.js";
import { lingerClose } from "./linger.js";
import {
  kBytesOut,
  kCloseReason,
  kFaults,
  kFlushQueued,
  kInputHolds,
  kLastActivity,
  kOut,
  kOutBytes,
  kPaused,
  kSampleStart,
  kSocket,
  kStatus,
  kWholeMessages,
} from "./slots.js";
import type { PeerStream } from "./transport.js";

/** Batches up to this size are joined into one buffer before writing (measured: bench/). */
const CONCAT_MAX_BYTES = 1024 * 1024;

export class Outbox<S> implements EngineLink {
  /** The connection whose input is being decoded; its replies flush when the read is done. */
  protected reading: Connection<S> | undefined;
  private dirty: Connection<S>[] = [];
  private flushScheduled = false;
  /** Receives the sampled latencies (observeLatency); undefined: nobody observes. */
  latencyRecorder: LatencyRecorder | undefined;

  // Read per message and per flush: held here rather than behind `ctx`.
  protected readonly handler: Handler<S>;
  protected readonly limits: Limits;

  constructor(protected readonly ctx: EngineContext<S>) {
    this.handler = ctx.handler;
    this.limits = ctx.limits;
  }

  /** Queues a connection for the once-per-tick flush. */
  scheduleFlush(conn: Connection<S>): void {
    if (conn === this.reading) return; // flushed when its read is done
    conn[kFlushQueued] = true;
    this.dirty.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushDirty);
    }
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const conn of dirty) {
      conn[kFlushQueued] = false;
      this.flush(conn);
    }
  };

  /** Writes a connection's queued replies as one batch. */
  flush(conn: Connection<S>): void {
    const bytes = conn[kOutBytes];
    if (bytes === 0) return;
    const out = conn[kOut];
    conn[kOutBytes] = 0;
    const socket = conn[kSocket];
    // Closed, or closing with the FIN already queued (a late async reply): writing after
    // end() would make Node destroy the socket, and the replies still in it with it.
    // Destroyed (a slow consumer cut off) and not yet closed: nobody will read them.
    if (conn[kStatus] === "closed" || socket.writableEnded || socket.destroyed) {
      out.length = 0;
      return;
    }
    let below: boolean;
    const faults = conn[kFaults];
    if (faults !== undefined) {
      // Past --max-pending (what its stage holds counted): a slow consumer, disconnected.
      if (!faultedFlush(conn, faults, out, bytes, this.limits.maxPendingBytes)) {
        this.backpressure(conn, conn.pendingBytes);
      }
      below = true;
    } else if (conn[kWholeMessages]) {
      below = writeEach(socket, out);
    } else if (out.length === 1) {
      below = socket.write(out[0]!);
    } else if (bytes <= CONCAT_MAX_BYTES || out.length > bytes / 1024) {
      // One copy beats one stream write per part: Node's per-write cost (a request
      // object and bookkeeping each) is larger than a memcpy of a few hundred KiB.
      below = socket.write(Buffer.concat(out, bytes));
    } else {
      // Few, large parts: written as views (writev) rather than copied into one buffer.
      writeEach(socket, out);
      below = false;
    }
    out.length = 0;
    conn[kBytesOut] += bytes;
    conn[kLastActivity] = coarseClock.now;
    if (conn[kSampleStart] !== 0) {
      this.latencyRecorder?.(performance.now() - conn[kSampleStart]);
      conn[kSampleStart] = 0;
    }
    // write() is true while the socket holds less than its 16 KiB mark, which is below
    // any high-water mark (resolveLimits keeps it >= 16 KiB): only then look closer.
    if (below) return;
    const pending = socket.writableLength;
    if (pending >= this.limits.highWaterBytes) this.backpressure(conn, pending);
  }

  private backpressure(conn: Connection<S>, pending: number): void {
    const { limits } = this;
    const { stats } = this.ctx;
    if (pending > limits.maxPendingBytes) {
      stats.countError("ERR_SLOW_CONSUMER");
      this.ctx.logger.warn(
        {
          conn: conn.id,
          remote: conn.remoteAddress,
          pendingBytes: pending,
          limit: limits.maxPendingBytes,
        },
        "slow consumer: pending output over the limit, disconnecting",
      );
      conn[kCloseReason] = "slow consumer";
      conn[kSocket].destroy();
      return;
    }
    if (!conn[kPaused]) {
      conn[kPaused] = true;
      conn[kSocket].pause();
      stats.backpressurePauses++;
    }
  }

  /** The socket's output drained: read again. */
  handleDrain(conn: Connection<S>): void {
    if (!conn[kPaused] || conn[kStatus] !== "open" || this.ctx.draining) return;
    conn[kPaused] = false;
    if (conn[kInputHolds] === 0) conn[kSocket].resume();
  }

  /** Sends an optional last message, flushes, and half-closes; input is discarded from now on. */
  close(conn: Connection<S>, reason: CloseReason, notice?: string | Buffer): void {
    if (conn[kStatus] !== "open") return;
    conn[kCloseReason] = reason;
    if (notice !== undefined) conn.send(notice);
    conn[kStatus] = "closing";
    this.flush(conn);
    const faults = conn[kFaults];
    if (faults === undefined) this.linger(conn);
    else faults.whenIdle(() => this.linger(conn)); // delayed replies leave before the FIN
  }

  private linger(conn: Connection<S>): void {
    // A peer that does not take its last replies gets as long as an idle peer, then a reset.
    lingerClose(conn[kSocket], undefined, {
      lingerMs: this.limits.lingerMs,
      flushMs: this.limits.idleTimeoutMs,
      onUnsent: (unsentBytes) => this.unsentAtClose(conn, unsentBytes),
    });
  }

  private unsentAtClose(conn: Connection<S>, unsentBytes: number): void {
    this.ctx.stats.countError("ERR_SLOW_CONSUMER");
    this.ctx.logger.warn(
      { conn: conn.id, remote: conn.remoteAddress, unsentBytes, waitedMs: this.limits.idleTimeoutMs },
      "closing: the peer did not read its last replies in time, resetting",
    );
    conn[kCloseReason] = "slow consumer";
  }
}

/** One write per part, corked into one batch (a writev for a socket, one message each for a message transport). */
function writeEach(stream: PeerStream, parts: readonly Buffer[]): boolean {
  stream.cork();
  let below = true;
  for (const part of parts) below = stream.write(part);
  stream.uncork();
  return below;
}
