// node:http's closeIdleConnections() (which server.close() runs too) destroys every
// connection whose parser waits for a request and whose current answer is written
// (res.end() called) — written is not sent: the answer's bytes may still be queued, and
// pipelined answers written ahead of their turn wait behind it. Destroyed then, the
// connection loses them, and a shutdown would drop answers it promised to deliver.
import type { Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Lingerer } from "./linger.js";

/**
 * The guard around node's idle sweep: the sweep waits while any answer is written and
 * not yet sent (its response's 'close'), and runs once the last of them has left; when
 * it runs, a connection whose socket still holds bytes is given a lingering close
 * (which ends it once they have left) instead of being destroyed. Connections that are
 * really idle may then stay open a little longer during a shutdown (until the answers
 * in transit leave, or the drain timeout); none loses an answer.
 */
export class IdleGuard {
  private inTransit = 0;
  private held = false;
  private readonly sweep: () => void;

  constructor(server: Server, sockets: () => Iterable<Socket>, lingering: Lingerer) {
    const nodeSweep = server.closeIdleConnections.bind(server);
    this.sweep = () => keepingUnflushed(sockets(), lingering, nodeSweep);
    server.closeIdleConnections = () => this.run();
  }

  /** `res` was just written (res.end()): no sweep until it has left. */
  written(res: ServerResponse): void {
    this.inTransit++;
    res.once("close", () => {
      this.inTransit--;
      if (this.inTransit === 0 && this.held) this.run();
    });
  }

  private run(): void {
    this.held = this.inTransit > 0;
    if (!this.held) this.sweep();
  }
}

/**
 * Runs node's sweep minus its flaw: it counts a connection as idle once its answer is
 * ended, and destroys it with the answer still in the socket's buffer; the FIN after
 * the bytes already sent looks like a complete exchange. `destroy` is diverted to a
 * lingering close on such sockets while the sweep runs.
 */
function keepingUnflushed(sockets: Iterable<Socket>, lingering: Lingerer, sweep: () => void): void {
  function closeOnceFlushed(this: Socket): Socket {
    lingering.close(this);
    return this;
  }
  const unflushed: Socket[] = [];
  for (const socket of sockets) {
    if (socket.writableLength === 0 || socket.destroyed || Object.hasOwn(socket, "destroy")) continue;
    unflushed.push(socket);
    socket.destroy = closeOnceFlushed as Socket["destroy"];
  }
  try {
    sweep();
  } finally {
    for (const socket of unflushed) delete (socket as Partial<Socket>).destroy;
  }
}
