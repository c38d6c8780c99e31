// The drain: stop accepting; answer what was already received; send each peer the
// service's notice; wait for replies to flush; force-close whatever is left.
import type { Admission } from "./admission.js";
import { type EngineContext, shutdownNotice } from "./context.js";
import { closeListener, type Emptying, emptiedWithin, untilEmpty } from "./drain-wait.js";
import { cutOff } from "./linger.js";
import type { ReadPath } from "./read-path.js";
import { kInflight, kPaused, kSocket, kStatus } from "./slots.js";
import type { Sweep } from "./sweep.js";

export interface ShutdownParts<S> {
  ctx: EngineContext<S>;
  admission: Admission<S>;
  engine: ReadPath<S>;
  sweep: Sweep<S>;
}

export async function runShutdown<S>(parts: ShutdownParts<S>, drainTimeoutMs: number): Promise<void> {
  const { ctx, admission, engine } = parts;
  const { connections, logger } = ctx;
  const started = Date.now();
  logger.info({ connections: connections.size, drainTimeoutMs }, "shutting down");
  // Connections the kernel already completed sit in the accept backlog, and Node
  // accepts one per event-loop turn: keep turning until no more arrive (bounded),
  // then close the listener, so no connection that was established is reset.
  const acceptDeadline = Date.now() + Math.min(1000, drainTimeoutMs);
  let before: number;
  do {
    before = admission.acceptCount;
    await nextTurn();
    await nextTurn();
  } while (admission.acceptCount !== before && Date.now() < acceptDeadline);
  admission.accepting = false;
  const listenerClosed = closeListener(admission.server);
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
  await listenerClosed;
  parts.sweep.stop();
  logger.info({ durationMs: Date.now() - started }, "shut down");
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
