// What the admin endpoint reads from a running service: the engine's counters, its
// peer registry and the service's own metrics. EchoplexServer satisfies it as is.
import type { Connection, PeerInfo } from "../core/connection.js";
import type { LatencyRecorder, ListenInfo } from "../core/server.js";
import type { MetricSample, ServerStats, ServiceMetric } from "../core/stats.js";

export interface ObservedServer {
  /** The `service` label of its metrics. */
  readonly service: string;
  readonly draining: boolean;
  readonly address: ListenInfo | undefined;
  readonly stats: ServerStats;
  readonly connections: ReadonlyMap<number, Connection<unknown>>;
  readonly metrics: readonly ServiceMetric[];
  peers(limit?: number): PeerInfo[];
  observeLatency(record: LatencyRecorder, every?: number): void;
}

/** True when `value` can be observed (an EchoplexServer, or anything shaped like one). */
export function isObservable(value: unknown): value is ObservedServer {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<Record<keyof ObservedServer, unknown>>;
  return (
    typeof v.service === "string" &&
    typeof v.peers === "function" &&
    typeof v.observeLatency === "function" &&
    v.connections instanceof Map &&
    typeof v.stats === "object"
  );
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
