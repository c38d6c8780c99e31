// node:http's closeIdleConnections() (which server.close() runs too) destroys every
// connection whose parser waits for a request and whose current answer is written
// (res.end() called) — written is not sent: the answer's bytes may still be queued, and
// pipelined answers written ahead of their turn wait behind it. Destroyed then, the
// connection loses them, and a shutdown would drop answers it promised to deliver.
import type { Server, ServerResponse } from "node:http";

/**
 * Holds node's idle sweep while any answer is written and not yet sent (its response's
 * 'close'), and runs it once the last of them has left. Connections that are really idle
 * may then stay open a little longer during a shutdown (until the answers in transit
 * leave, or the drain timeout); none loses an answer.
 */
export class IdleSweep {
  private inTransit = 0;
  private held = false;
  private readonly sweep: () => void;

  constructor(server: Server) {
    this.sweep = server.closeIdleConnections.bind(server);
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
