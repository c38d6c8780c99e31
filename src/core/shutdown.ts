// The drain: stop accepting; answer what was already received; send each peer the
// service's notice; wait for replies to flush; force-close whatever is left.
import type { Admission } from "./admission.js";
import { type EngineContext, shutdownNotice } from "./context.js";
import { type Emptying, emptiedWithin, untilEmpty } from "./drain-wait.js";
import { cutOff } from "./linger.js";
import type { ReadPath } from "./read-path.js";
import { kInflight, kPaused, kSocket, kStatus } from "./slots.js";
import type { Sweep } from "./sweep.js";
import type { Listener } from "./transport.js";

export interface ShutdownParts<S> {
  ctx: EngineContext<S>;
  admission: Admission<S>;
  engine: ReadPath<S>;
  sweep: Sweep<S>;
  /** Every door of the server. */
  listeners: readonly Listener[];
}

export async function runShutdown<S>(parts: ShutdownParts<S>, drainTimeoutMs: number): Promise<void> {
  const { ctx, admission, engine, listeners } = parts;
  const { connections, logger } = ctx;
  const started = Date.now();
  logger.info({ connections: connections.size, drainTimeoutMs }, "shutting down");
  // Connections the kernel already completed sit in the accept backlog, and Node
  // accepts one per event-loop turn: keep turning until no more arrive (bounded),
  // then close the listener, so no connection that was established is reset.
  const acceptDeadline = Date.now() + Math.min(1000, drainTimeoutMs);
  let before: number;
  do {
    before = acceptedSoFar(listeners);
    await nextTurn();
    await nextTurn();
  } while (acceptedSoFar(listeners) !== before && Date.now() < acceptDeadline);
  admission.accepting = false;
  const listenersClosed = Promise.all(listeners.map((listener) => listener.close()));
  admission.dropHandshakes();
  // Two turns of the event loop: bytes already in the kernel's buffers are read and answered.
  await nextTurn();
  await nextTurn();
  for (const conn of connections.values()) {
    if (conn[kStatus] !== "open") continue;
    conn[kSocket].pause();
    conn[kPaused] = true;
    if (conn[kInflight] === 0) engine.close(conn, "server shutdown", shutdownNotice(ctx, conn));
  }
  const peers: Emptying = {
    isEmpty: () => connections.size === 0,
    whenEmpty: (done) => {
      engine.onEmpty = done;
    },
  };
  if (!(await emptiedWithin(peers, drainTimeoutMs))) {
    cutOff(connections.values(), { logger, stats: ctx.stats, drainTimeoutMs });
    await untilEmpty(peers);
  }
  // Half-done TLS handshakes are not peers with requests to answer, but they would hold
  // up close() until their handshake timeout. Every peer is gone by now.
  admission.dropHandshakes();
  await listenersClosed;
  parts.sweep.stop();
  logger.info({ durationMs: Date.now() - started }, "shut down");
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function acceptedSoFar(listeners: readonly Listener[]): number {
  let total = 0;
  for (const listener of listeners) total += listener.acceptCount;
  return total;
}
