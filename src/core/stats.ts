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

/** One labelled value of a service metric. */
export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A metric a service contributes (chat rooms, sink records written), read only when
 * scraped so that the service keeps plain fields on its hot path. The admin endpoint
 * exports it as `echoplex_<name>` with a `service` label added.
 */
export interface ServiceMetric {
  /** Snake case, without the `echoplex_` prefix; counters end in `_total`. */
  name: string;
  help: string;
  type: "gauge" | "counter";
  /** Label names of the samples `read` returns (besides `service`). */
  labelNames?: readonly string[];
  read(): number | readonly MetricSample[];
}

/** A gauge read at scrape time: `gauge("chat_rooms", "rooms with a user", () => rooms.size)`. */
export function gauge(
  name: string,
  help: string,
  read: ServiceMetric["read"],
  labelNames?: string[],
): ServiceMetric {
  return serviceMetric("gauge", name, help, read, labelNames);
}

/** A counter read at scrape time; `name` should end in `_total`. */
export function counter(
  name: string,
  help: string,
  read: ServiceMetric["read"],
  labelNames?: string[],
): ServiceMetric {
  return serviceMetric("counter", name, help, read, labelNames);
}

function serviceMetric(
  type: ServiceMetric["type"],
  name: string,
  help: string,
  read: ServiceMetric["read"],
  labelNames: string[] | undefined,
): ServiceMetric {
  return labelNames === undefined ? { name, help, type, read } : { name, help, type, read, labelNames };
}

export class ServerStats {
  connectionsOpened = 0;
  backpressurePauses = 0;
  tlsHandshakeFailures = 0;
  readonly rejected = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** Connections accepted since start, by transport. */
  readonly openedByTransport = new Map<string, number>();
  /** Traffic of connections that have closed. */
  readonly retired: TrafficTotals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };

  countRejected(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  countOpened(transport: string): void {
    this.connectionsOpened++;
    this.openedByTransport.set(transport, (this.openedByTransport.get(transport) ?? 0) + 1);
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

/**
 * Reads a service metric as samples; a reader that throws yields undefined (and is
 * reported through `onError`), so one faulty metric never takes a whole page down.
 */
export function readServiceMetric(
  metric: ServiceMetric,
  onError?: (err: unknown) => void,
): readonly MetricSample[] | undefined {
  try {
    const value = metric.read();
    return typeof value === "number" ? [{ labels: {}, value }] : value;
  } catch (err) {
    onError?.(err);
    return undefined;
  }
}
