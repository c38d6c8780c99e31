// How the engine ends a connection it closes: half-close after the last reply, keep
// discarding the peer's input for a while, and never let a timer throw away replies
// that have not left the process yet; and what the drain timeout does to the rest.
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ErrorCode } from "../errors.js";
import type { Connection } from "./connection.js";
import type { Logger } from "./logger.js";
import { kCloseReason, kInflight, kSocket, kStatus } from "./slots.js";
import type { ServerStats } from "./stats.js";

/** Connections named one by one in the log when the drain timeout cuts them off (then only counted). */
const MAX_DRAIN_WARNINGS = 20;

export interface LingerOptions {
  /** Once every reply has reached the kernel: how long to keep discarding input before closing. */
  lingerMs: number;
  /** Reset the connection if its replies have not all reached the kernel this long after the close (0: no bound). */
  flushMs: number;
  /** `flushMs` ran out with this many bytes still unsent (called just before the reset). */
  onUnsent?: (unsentBytes: number) => void;
}

/**
 * Half-closes after `last`, then keeps reading and discarding until the peer closes or
 * `lingerMs` passes. Resetting at once could destroy our last message in the peer's
 * receive queue before it reads it. The linger only starts once the socket has handed
 * everything to the kernel ('finish'): a peer that is slow to read must not lose the
 * replies still queued in the socket when a fixed timer destroys it. The kernel keeps
 * delivering what it holds after the close.
 */
export function lingerClose(socket: Duplex, last: Buffer | undefined, options: LingerOptions): void {
  socket.on("error", noop);
  if (last !== undefined) socket.end(last);
  else socket.end();
  socket.resume();
  let timer: NodeJS.Timeout | undefined;
  const linger = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => socket.destroy(), options.lingerMs);
    timer.unref();
  };
  if (socket.writableFinished) linger();
  else {
    socket.once("finish", linger);
    if (options.flushMs > 0) {
      timer = setTimeout(() => {
        const unsent = socket.writableLength;
        // Everything written, only the FIN's own completion pending: nothing to lose.
        if (unsent === 0) return linger();
        options.onUnsent?.(unsent);
        abortSocket(socket);
      }, options.flushMs);
      timer.unref();
    }
  }
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Ends a connection so that the peer cannot take it for a clean close: with replies
 * dropped, a FIN would look like the end of a complete answer. Plain TCP gets a reset;
 * a TLS socket is destroyed without close_notify (node cannot reset the TCP connection
 * under TLS), which OpenSSL-based clients report as an unexpected EOF.
 */
export function abortSocket(socket: Duplex): void {
  if (socket.destroyed) return;
  // A message transport's stream (WebSocket, UDP) has no TCP connection of its own to reset.
  // A TLSSocket (a Socket too) is told by its `encrypted` flag: checking it by class
  // would load node:tls into every server.
  if (socket instanceof Socket && !("encrypted" in socket)) socket.resetAndDestroy();
  else socket.destroy();
}

/** What the drain timeout needs to know of one connection. */
export interface CutOffView {
  id: number;
  remoteAddress: string;
  socket: Duplex;
  /** Bytes written and not handed to the kernel yet. */
  unsentBytes: number;
  /** Requests still being answered. */
  inflight: number;
  /** Everything it owed has reached the kernel and it is closing: a plain close loses nothing. */
  clean: boolean;
}

export interface CutOffContext<C> {
  logger: Logger;
  drainTimeoutMs: number;
  countError(code: ErrorCode): void;
  /** What the service's log calls its replies ("replies", "answers"). */
  replies?: string;
  /** Called just before `conn` is reset (the engine records why it closed). */
  onReset?(conn: C): void;
  /** Run after the connections: ends what else is still open; returns the bytes it dropped. */
  alsoDrop?(): number;
  /** More fields for the summary line. */
  summary?: Record<string, unknown>;
}

/**
 * The drain timeout ran out. A connection whose replies all reached the kernel is only
 * lingering: closing it loses nothing (the kernel still delivers them). One with replies
 * still queued in the process or its socket, or requests still being answered, is reset,
 * so that the peer does not take the end for a clean close after its last reply, and
 * logged with what it lost (`ERR_DRAIN_TIMEOUT`). Every service's drain ends this way.
 */
export function cutOffAll<C>(
  connections: Iterable<C>,
  view: (conn: C) => CutOffView,
  ctx: CutOffContext<C>,
): void {
  const { logger, drainTimeoutMs } = ctx;
  let open = 0;
  let reset = 0;
  let unsentTotal = 0;
  for (const conn of connections) {
    open++;
    const { id, remoteAddress, socket, unsentBytes, inflight, clean } = view(conn);
    if (clean) {
      socket.destroy();
      continue;
    }
    reset++;
    unsentTotal += unsentBytes;
    ctx.countError("ERR_DRAIN_TIMEOUT");
    ctx.onReset?.(conn);
    if (reset <= MAX_DRAIN_WARNINGS) {
      logger.warn(
        { conn: id, remote: remoteAddress, unsentBytes, inflight, drainTimeoutMs },
        `drain timeout: ${ctx.replies ?? "replies"} not sent, resetting the connection`,
      );
    }
    abortSocket(socket);
  }
  unsentTotal += ctx.alsoDrop?.() ?? 0;
  logger.warn(
    { connections: open, ...ctx.summary, reset, unsentBytes: unsentTotal, drainTimeoutMs },
    "drain timeout: force-closing the remaining connections",
  );
}

/** The engine's drain timeout: `cutOffAll` over its connections. */
export function cutOff(
  connections: Iterable<Connection<unknown>>,
  ctx: { logger: Logger; stats: ServerStats; drainTimeoutMs: number },
): void {
  cutOffAll(
    connections,
    (conn) => ({
      id: conn.id,
      remoteAddress: conn.remoteAddress,
      socket: conn[kSocket],
      unsentBytes: conn.pendingBytes,
      inflight: conn[kInflight],
      clean: conn.pendingBytes === 0 && conn[kInflight] === 0 && conn[kStatus] === "closing",
    }),
    {
      logger: ctx.logger,
      drainTimeoutMs: ctx.drainTimeoutMs,
      countError: (code) => ctx.stats.countError(code),
      onReset: (conn) => {
        conn[kCloseReason] = "drain timeout";
      },
    },
  );
}

function noop(): void {}
