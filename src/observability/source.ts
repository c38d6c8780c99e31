// What the admin endpoint reads from a running service: its counters, its peers and
// its own metrics. Any server can be observed by implementing ObservedServer (the
// HTTP responder does); an engine server (EchoplexServer) is adapted as it is.
import type { Connection, PeerInfo } from "../core/connection.js";
import type { LatencyRecorder, ListenInfo } from "../core/server.js";
import { type MetricSample, ServerStats, type ServiceMetric, type TrafficTotals } from "../core/stats.js";

/** A service's counters since start, read when scraped. */
export interface ServiceCounters extends TrafficTotals {
  connectionsActive: number;
  connectionsOpened: number;
  /** Refused connections by reason (max_connections, max_connections_per_ip). */
  rejected: ReadonlyMap<string, number>;
  /** Errors by code (ERR_LINE_TOO_LONG, ERR_IDLE_TIMEOUT, …). */
  errors: ReadonlyMap<string, number>;
  backpressurePauses: number;
  tlsHandshakeFailures: number;
}

export interface ObservedServer {
  /** The `service` label of its metrics. */
  readonly service: string;
  readonly draining: boolean;
  readonly address: ListenInfo | undefined;
  readonly metrics: readonly ServiceMetric[];
  counters(): ServiceCounters;
  peers(limit?: number): PeerInfo[];
  /** Calls `record(ms)` for the time from a request's arrival to the write of its reply (1 in `every`, or all). */
  observeLatency(record: LatencyRecorder, every?: number): void;
}

/** The engine's server as the admin endpoint sees it (EchoplexServer has this shape). */
export interface EngineView {
  readonly service: string;
  readonly draining: boolean;
  readonly address: ListenInfo | undefined;
  readonly stats: ServerStats;
  readonly connections: ReadonlyMap<number, Connection<unknown>>;
  readonly metrics: readonly ServiceMetric[];
  peers(limit?: number): PeerInfo[];
  observeLatency(record: LatencyRecorder, every?: number): void;
}

/** What startAdmin and createMetricsRegistry accept. */
export type Observable = ObservedServer | EngineView;

function isObservedServer(value: object): value is ObservedServer {
  const v = value as Partial<Record<keyof ObservedServer, unknown>>;
  return (
    typeof v.service === "string" &&
    typeof v.counters === "function" &&
    typeof v.peers === "function" &&
    typeof v.observeLatency === "function"
  );
}

function isEngineView(value: object): value is EngineView {
  const v = value as Partial<Record<keyof EngineView, unknown>>;
  return (
    typeof v.service === "string" &&
    typeof v.peers === "function" &&
    typeof v.observeLatency === "function" &&
    v.connections instanceof Map &&
    v.stats instanceof ServerStats
  );
}

/** True when `value` can be observed (an ObservedServer, or an engine server). */
export function isObservable(value: unknown): value is Observable {
  return typeof value === "object" && value !== null && (isObservedServer(value) || isEngineView(value));
}

/** The ObservedServer view of `source` (itself when it already is one). */
export function toObserved(source: Observable): ObservedServer {
  return isObservedServer(source) ? source : engineObserved(source);
}

function engineObserved(engine: EngineView): ObservedServer {
  return {
    service: engine.service,
    get draining() {
      return engine.draining;
    },
    get address() {
      return engine.address;
    },
    get metrics() {
      return engine.metrics;
    },
    counters: () => ({
      connectionsActive: engine.connections.size,
      connectionsOpened: engine.stats.connectionsOpened,
      rejected: engine.stats.rejected,
      errors: engine.stats.errors,
      backpressurePauses: engine.stats.backpressurePauses,
      tlsHandshakeFailures: engine.stats.tlsHandshakeFailures,
      ...engine.stats.totals(engine.connections.values()),
    }),
    peers: (limit) => engine.peers(limit),
    observeLatency: (record, every) => engine.observeLatency(record, every),
  };
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
