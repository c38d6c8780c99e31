// Server-wide counters. Live connections keep their own counters (updated per
// chunk); totals are computed on demand as "retired" plus the live ones, so the
// hot path never touches a shared counter.
import type { Connection } from "./connection.js";

export interface TrafficTotals {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

export class ServerStats {
  connectionsOpened = 0;
  backpressurePauses = 0;
  tlsHandshakeFailures = 0;
  readonly rejected = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** Traffic of connections that have closed. */
  readonly retired: TrafficTotals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };

  countRejected(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  retire(conn: Connection<unknown>): void {
    this.retired.bytesIn += conn.bytesIn;
    this.retired.bytesOut += conn.bytesOut;
    this.retired.messagesIn += conn.messagesIn;
    this.retired.messagesOut += conn.messagesOut;
  }

  /** Totals since start: retired connections plus the live ones. */
  totals(live: Iterable<Connection<unknown>>): TrafficTotals {
    const t = { ...this.retired };
    for (const conn of live) {
      t.bytesIn += conn.bytesIn;
      t.bytesOut += conn.bytesOut;
      t.messagesIn += conn.messagesIn;
      t.messagesOut += conn.messagesOut;
    }
    return t;
  }
}
