// The HTTP responder's shutdown around node:http: closing idle connections without
// cutting off an answer still in a socket, and what the drain timeout does to the rest.
import type { Socket } from "node:net";
import { abortSocket } from "../../core/linger.js";
import type { Logger } from "../../core/logger.js";
import type { Lingerer } from "./linger.js";

/** Connections named one by one in the log when the drain timeout cuts them off (then only counted). */
const MAX_DRAIN_WARNINGS = 20;

/** What the drain needs to know of a connected client. */
export interface DrainingPeer {
  readonly id: number;
  readonly remoteAddress: string;
  readonly socket: Socket;
  /** Requests waiting for their delayed answer. */
  readonly inflight: number;
}

/**
 * Runs `close` (node:http's closeIdleConnections(), or close(), which calls it) minus
 * its flaw: it counts a connection as idle once its answer is ended, and destroys it
 * with the answer still in the socket's buffer; the FIN after the bytes already sent
 * looks like a complete exchange. Such a connection gets a lingering close instead,
 * which ends it once the answer has left: `destroy` is diverted while `close` runs.
 */
export function closeIdleKeepingAnswers(
  peers: Iterable<DrainingPeer>,
  lingering: Lingerer,
  close: () => void,
): void {
  function closeOnceFlushed(this: Socket): Socket {
    lingering.close(this);
    return this;
  }
  const unflushed: Socket[] = [];
  for (const { socket } of peers) {
    if (socket.writableLength === 0 || socket.destroyed || Object.hasOwn(socket, "destroy")) continue;
    unflushed.push(socket);
    socket.destroy = closeOnceFlushed as Socket["destroy"];
  }
  try {
    close();
  } finally {
    for (const socket of unflushed) delete (socket as Partial<Socket>).destroy;
  }
}

/**
 * The drain timeout ran out: every connection with an answer still unsent, or one not
 * written yet (its delay running), is reset so that the client does not take the end
 * for a complete exchange, and logged with its bytes; lingering closes end too. The
 * caller closes the rest.
 */
export function resetUnanswered(
  peers: Iterable<DrainingPeer>,
  lingering: Lingerer,
  ctx: { logger: Logger; countError: (code: string) => void; drainTimeoutMs: number; inflight: number },
): void {
  const { logger, drainTimeoutMs } = ctx;
  let open = 0;
  let reset = 0;
  let unsentTotal = 0;
  for (const peer of peers) {
    open++;
    const unsentBytes = peer.socket.writableLength;
    if (unsentBytes === 0 && peer.inflight === 0) continue;
    unsentTotal += unsentBytes;
    ctx.countError("ERR_DRAIN_TIMEOUT");
    if (++reset <= MAX_DRAIN_WARNINGS) {
      logger.warn(
        { conn: peer.id, remote: peer.remoteAddress, unsentBytes, inflight: peer.inflight, drainTimeoutMs },
        "drain timeout: answers not sent, resetting the connection",
      );
    }
    abortSocket(peer.socket);
  }
  unsentTotal += lingering.destroyAll();
  logger.warn(
    { connections: open, inflight: ctx.inflight, reset, unsentBytes: unsentTotal, drainTimeoutMs },
    "drain timeout: force-closing the remaining connections",
  );
}
