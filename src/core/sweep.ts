// The sweep: one periodic task for all connections (on the shared ticker, which also
// ticks the coarse clock the hot path reads) instead of a timer per socket. It closes
// peers idle too long or stuck in the middle of a line (the line deadline).
import { EchoplexError } from "../errors.js";
import type { Connection } from "./connection.js";
import { type EngineContext, errorNotice, formatSeconds } from "./context.js";
import type { Outbox } from "./outbox.js";
import {
  kCloseAfterReplies,
  kCodec,
  kInputHolds,
  kLastActivity,
  kPartialSince,
  kPaused,
  kStatus,
} from "./slots.js";
import { everyTick, type TickTask } from "./ticker.js";

export class Sweep<S> {
  private task: TickTask | undefined;

  constructor(
    private readonly ctx: EngineContext<S>,
    private readonly outbox: Outbox<S>,
  ) {}

  start(): void {
    if (this.task !== undefined) return;
    const { limits } = this.ctx;
    const shortest = Math.min(
      limits.idleTimeoutMs || Number.POSITIVE_INFINITY,
      limits.lineTimeoutMs || Number.POSITIVE_INFINITY,
    );
    const every = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    this.task = everyTick(every, (now) => this.sweep(now));
  }

  stop(): void {
    this.task?.stop();
  }

  private sweep(now: number): void {
    const { limits, connections } = this.ctx;
    const idle = limits.idleTimeoutMs;
    const lineTimeout = limits.lineTimeoutMs;
    if (idle === 0 && lineTimeout === 0) return;
    for (const conn of connections.values()) {
      if (conn[kStatus] !== "open") continue;
      if (lineTimeout > 0 && conn[kPartialSince] !== 0 && conn[kCloseAfterReplies] === undefined) {
        // While we do not read (backpressure, a held input) the peer cannot finish its line.
        if (conn[kPaused] || conn[kInputHolds] > 0) conn[kPartialSince] = now;
        else if (now - conn[kPartialSince] > lineTimeout) {
          this.lineTimedOut(conn, now);
          continue;
        }
      }
      if (idle === 0 || now - conn[kLastActivity] <= idle) continue;
      this.ctx.stats.countError("ERR_IDLE_TIMEOUT");
      const err = new EchoplexError(
        "ERR_IDLE_TIMEOUT",
        `idle timeout: no traffic for ${formatSeconds(idle)}, closing`,
      );
      this.ctx.logger.info(
        { conn: conn.id, remote: conn.remoteAddress, idleMs: now - conn[kLastActivity] },
        "idle timeout",
      );
      this.outbox.close(conn, "idle timeout", errorNotice(this.ctx, err));
    }
  }

  private lineTimedOut(conn: Connection<S>, now: number): void {
    const limit = this.ctx.limits.lineTimeoutMs;
    this.ctx.stats.countError("ERR_LINE_TIMEOUT");
    this.ctx.logger.warn(
      {
        conn: conn.id,
        remote: conn.remoteAddress,
        partialMs: now - conn[kPartialSince],
        bufferedBytes: conn[kCodec].bufferedBytes,
      },
      "line timeout: partial line not completed, closing",
    );
    const err = new EchoplexError(
      "ERR_LINE_TIMEOUT",
      `line timeout: line not completed within ${formatSeconds(limit)}, closing`,
    );
    this.outbox.close(conn, "line timeout", errorNotice(this.ctx, err));
  }
}
