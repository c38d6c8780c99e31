// The read side of the engine: a chunk from a socket goes through the connection's
// codec, each message to the handler (past the rate limit), and the replies the read
// produced leave in one batch (Outbox.flush). Also the end of a connection: the peer's
// FIN, a socket error, and the close that takes it out of the registry.
import { EchoplexError } from "../errors.js";
import { coarseClock } from "./clock.js";
import { type CloseReason, Connection } from "./connection.js";
import { type EngineContext, errorNotice, formatSeconds, shutdownNotice } from "./context.js";
import type { LatencyRecorder } from "./contract.js";
import { attachFaults } from "./fault-hook.js";
import { Outbox } from "./outbox.js";
import { RateLimiter, type RateVerdict } from "./rate-limit.js";
import {
  kBytesIn,
  kBytesOut,
  kCloseAfterReplies,
  kCloseReason,
  kCodec,
  kInflight,
  kLastActivity,
  kMessagesIn,
  kMessagesOut,
  kOut,
  kOutBytes,
  kPartialSince,
  kPeerEnded,
  kRateLimiter,
  kSampleStart,
  kStatus,
  kWholeMessages,
} from "./slots.js";
import { isRenegotiationError } from "./tls-handshakes.js";
import type { Arrival, PeerStream } from "./transport.js";

const kConn = Symbol("echoplex.connection");
const kPath = Symbol("echoplex.readPath");
type EngineSocket = PeerStream & { [kConn]: Connection<unknown>; [kPath]: ReadPath<unknown> };

export class ReadPath<S> extends Outbox<S> {
  private nextId = 1;
  private latencyEvery = 0;
  private readsUntilSample = 1;
  /** Called once the registry is empty (shutdown waits for it). */
  onEmpty: (() => void) | undefined;

  constructor(
    ctx: EngineContext<S>,
    /** A connection left the registry (admission forgets it for the per-IP count). */
    private readonly released: (conn: Connection<S>) => void,
  ) {
    super(ctx);
  }

  /**
   * Samples request-to-reply latency: 1 read in `every` (and the first) is timed from
   * the chunk's arrival to the write of the replies it caused.
   */
  observeLatency(record: LatencyRecorder, every: number): void {
    this.latencyRecorder = record;
    this.latencyEvery = Math.max(1, Math.floor(every));
    this.readsUntilSample = 1;
  }

  /** A new peer, past admission, from whichever listener it arrived through. */
  open(arrival: Arrival): void {
    const { ctx } = this;
    const { stream: socket, remoteAddress, remotePort, early, messages } = arrival;
    const conn = new Connection<S>(
      this.nextId++,
      socket,
      ctx.service,
      remoteAddress,
      remotePort,
      arrival.secure,
      arrival.transport,
      this,
      ctx.handler.createState(),
    );
    // A message transport frames nothing itself: its stream already carries whole messages.
    conn[kCodec] = (messages ?? ctx.framing).create((payload) => this.deliver(conn, payload));
    conn[kWholeMessages] = messages !== undefined;
    const rate = ctx.limits.maxMessagesPerSecond;
    if (rate > 0) {
      conn[kRateLimiter] = new RateLimiter(rate, ctx.limits.rateBurst, ctx.limits.rateGraceMs, Date.now());
    }
    const engineSocket = socket as EngineSocket;
    engineSocket[kConn] = conn as Connection<unknown>;
    engineSocket[kPath] = this as ReadPath<unknown>;
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("drain", onSocketDrain);
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    if (ctx.faults?.active) attachFaults(ctx, conn);
    ctx.connections.set(conn.id, conn);
    ctx.stats.countOpened(arrival.transport);
    if (ctx.proxyProtocol) {
      const via = (socket as PeerStream & { remoteAddress?: string }).remoteAddress;
      ctx.logger.info({ conn: conn.id, remote: remoteAddress, port: remotePort, via }, "connect");
    } else {
      ctx.logger.info({ conn: conn.id, remote: remoteAddress, port: remotePort }, "connect");
    }
    ctx.handler.onConnect?.(conn);
    if (early !== undefined && early.length > 0) this.handleData(conn, early);
  }

  /** A chunk arrived from the peer. */
  handleData(conn: Connection<S>, chunk: Buffer): void {
    // Closing (or about to, after a protocol error): the peer's input is discarded.
    if (conn[kStatus] !== "open" || conn[kCloseAfterReplies] !== undefined) return;
    conn[kBytesIn] += chunk.length;
    conn[kLastActivity] = coarseClock.now;
    if (this.latencyRecorder !== undefined && --this.readsUntilSample <= 0) this.startSample(conn);
    // One clock read per chunk, not per message.
    conn[kRateLimiter]?.refill(Date.now());
    this.reading = conn;
    try {
      conn[kCodec].push(chunk);
    } catch (err) {
      this.protocolError(conn, err);
    }
    this.reading = undefined;
    // The line deadline runs from the first byte of a partial line to its end (swept).
    if (conn[kCodec].bufferedBytes === 0) conn[kPartialSince] = 0;
    else if (conn[kPartialSince] === 0) conn[kPartialSince] = coarseClock.now;
    this.flush(conn);
    // A chunk that completed no request (half a line) has no reply to time.
    if (conn[kSampleStart] !== 0 && conn[kInflight] === 0) conn[kSampleStart] = 0;
  }

  private startSample(conn: Connection<S>): void {
    this.readsUntilSample = this.latencyEvery;
    if (conn[kSampleStart] === 0) conn[kSampleStart] = performance.now();
  }

  /** The peer half-closed. */
  handleEnd(conn: Connection<S>): void {
    conn[kPeerEnded] = true;
    // After a protocol error the codec's leftovers are not a message.
    if (conn[kStatus] !== "open" || conn[kCloseAfterReplies] !== undefined) return;
    this.reading = conn;
    try {
      conn[kCodec].end();
    } catch (err) {
      this.protocolError(conn, err);
    }
    this.reading = undefined;
    if (conn[kStatus] !== "open") return;
    const handler = this.handler;
    if (handler.onEnd !== undefined) handler.onEnd(conn);
    if (conn[kInflight] === 0) this.close(conn, "peer closed");
    else this.flush(conn);
  }

  private deliver(conn: Connection<S>, payload: Buffer): void {
    if (conn[kStatus] !== "open") return; // a message after QUIT or an error in the same chunk
    conn[kMessagesIn]++;
    const handler = this.handler;
    const limiter = conn[kRateLimiter];
    if (limiter !== undefined) {
      const verdict = limiter.take();
      if (verdict !== "pass") {
        this.rateLimited(conn, limiter, verdict);
        if (conn[kStatus] === "open" && handler.onDropped !== undefined) handler.onDropped(conn);
        return;
      }
    }
    const result = handler.onMessage(conn, payload);
    if (result !== undefined) this.track(conn, result);
  }

  /** A message over the rate limit: dropped; the peer is told once per episode, then disconnected if it persists. */
  private rateLimited(
    conn: Connection<S>,
    limiter: RateLimiter,
    verdict: Exclude<RateVerdict, "pass">,
  ): void {
    if (verdict === "drop") return;
    const { ctx } = this;
    ctx.stats.countError("ERR_RATE_LIMITED");
    const limit = `rate limit exceeded (${limiter.rate} messages/s)`;
    if (verdict === "first-drop") {
      ctx.logger.warn(
        { conn: conn.id, remote: conn.remoteAddress, rate: limiter.rate, burst: limiter.burst },
        "rate limit exceeded, dropping messages",
      );
      const notice = errorNotice(ctx, new EchoplexError("ERR_RATE_LIMITED", limit));
      if (notice !== undefined) conn.send(notice);
      return;
    }
    ctx.logger.warn(
      {
        conn: conn.id,
        remote: conn.remoteAddress,
        rate: limiter.rate,
        excessMs: limiter.excessMs,
        dropped: limiter.dropped,
      },
      "rate limit exceeded persistently, disconnecting",
    );
    const err = new EchoplexError(
      "ERR_RATE_LIMITED",
      `${limit} for ${formatSeconds(limiter.graceMs)}, disconnecting`,
    );
    this.close(conn, "rate limited", errorNotice(ctx, err));
  }

  private track(conn: Connection<S>, pending: Promise<void>): void {
    conn[kInflight]++;
    pending.then(
      () => this.settled(conn),
      (err: unknown) => {
        this.ctx.logger.error({ conn: conn.id, err }, "handler failed");
        this.ctx.stats.countError("ERR_HANDLER");
        this.settled(conn);
      },
    );
  }

  private settled(conn: Connection<S>): void {
    conn[kInflight]--;
    if (conn[kInflight] > 0 || conn[kStatus] !== "open") return;
    const pending = conn[kCloseAfterReplies];
    if (pending !== undefined) this.close(conn, pending.reason, pending.notice);
    else if (conn[kPeerEnded]) this.close(conn, "peer closed");
    else if (this.ctx.draining) this.close(conn, "server shutdown", shutdownNotice(this.ctx, conn));
  }

  private protocolError(conn: Connection<S>, err: unknown): void {
    if (!EchoplexError.is(err)) throw err;
    const { ctx } = this;
    ctx.stats.countError(err.code);
    ctx.logger.warn(
      { conn: conn.id, remote: conn.remoteAddress, code: err.code, err: err.message },
      "protocol error, closing",
    );
    const reason: CloseReason =
      err.code === "ERR_LINE_TOO_LONG"
        ? "line too long"
        : err.code === "ERR_FRAME_TOO_LARGE"
          ? "frame too large"
          : "protocol error";
    const notice = errorNotice(ctx, err);
    if (conn[kInflight] > 0) {
      // Messages before the bad one are still being answered (a sink's OKs wait for the
      // disk): closing now would lose those answers; the error goes after them (§1.3).
      conn[kCloseAfterReplies] = { reason, notice };
      return;
    }
    this.close(conn, reason, notice);
  }

  /** The socket is gone: forget the connection and log its totals. */
  handleClose(conn: Connection<S>): void {
    if (conn[kStatus] === "closed") return;
    if (conn[kStatus] === "open" && conn[kCloseReason] === undefined) {
      conn[kCloseReason] = conn[kPeerEnded] ? "peer closed" : "peer reset";
    }
    conn[kStatus] = "closed";
    conn[kOut].length = 0;
    conn[kOutBytes] = 0;
    const { ctx } = this;
    ctx.connections.delete(conn.id);
    this.released(conn);
    ctx.stats.retire(conn);
    const reason = conn[kCloseReason] ?? "peer closed";
    ctx.logger.info(
      {
        conn: conn.id,
        remote: conn.remoteAddress,
        reason,
        durationMs: Date.now() - conn.connectedAt,
        bytesIn: conn[kBytesIn],
        bytesOut: conn[kBytesOut],
        messagesIn: conn[kMessagesIn],
        messagesOut: conn[kMessagesOut],
      },
      "disconnect",
    );
    this.handler.onClose?.(conn, reason);
    if (ctx.connections.size === 0) this.onEmpty?.();
  }

  handleError(conn: Connection<S>, err: NodeJS.ErrnoException): void {
    if (conn[kCloseReason] === undefined) {
      conn[kCloseReason] =
        err.code === "ECONNRESET" || err.code === "EPIPE"
          ? "peer reset"
          : isRenegotiationError(err)
            ? "tls renegotiation"
            : "socket error";
    }
    this.ctx.logger.debug({ conn: conn.id, err: err.code ?? err.message }, "socket error");
  }
}

// Socket handlers live at module level (one function for all sockets, no closure
// per connection); the connection and its engine hang off the socket.
function onSocketData(this: EngineSocket, chunk: Buffer): void {
  this[kPath].handleData(this[kConn], chunk);
}
function onSocketEnd(this: EngineSocket): void {
  this[kPath].handleEnd(this[kConn]);
}
function onSocketDrain(this: EngineSocket): void {
  this[kPath].handleDrain(this[kConn]);
}
function onSocketError(this: EngineSocket, err: NodeJS.ErrnoException): void {
  this[kPath].handleError(this[kConn], err);
}
function onSocketClose(this: EngineSocket): void {
  this[kPath].handleClose(this[kConn]);
}
