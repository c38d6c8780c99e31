// The JSON views of the admin endpoint: /api/stats (counters per service and in
// total) and /api/peers (every connection), computed from the engine on demand.
import type { PeerInfo } from "../core/connection.js";
import type { TrafficTotals } from "../core/stats.js";
import { type ObservedServer, readServiceMetric } from "./source.js";

export interface ServiceStats extends TrafficTotals {
  service: string;
  address: string | null;
  draining: boolean;
  connectionsActive: number;
  connectionsOpened: number;
  /** Refused connections by reason (max_connections, max_connections_per_ip). */
  rejected: Record<string, number>;
  /** Errors by code (ERR_LINE_TOO_LONG, ERR_IDLE_TIMEOUT, …). */
  errors: Record<string, number>;
  backpressurePauses: number;
  /** The service's own metrics, by name; labelled ones as `name{k="v"}`. */
  extra: Record<string, number>;
}

export interface StatsSnapshot {
  time: string;
  uptimeSeconds: number;
  ready: boolean;
  totals: TrafficTotals & { connectionsActive: number; connectionsOpened: number };
  services: ServiceStats[];
}

export interface PeersSnapshot {
  /** Connections in all services. */
  total: number;
  /** Peers listed (at most `limit` when one was asked for). */
  peers: PeerInfo[];
}

export function statsSnapshot(servers: readonly ObservedServer[], startedAt: number): StatsSnapshot {
  const services = servers.map(serviceStats);
  const totals = {
    connectionsActive: 0,
    connectionsOpened: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  for (const s of services) {
    totals.connectionsActive += s.connectionsActive;
    totals.connectionsOpened += s.connectionsOpened;
    totals.bytesIn += s.bytesIn;
    totals.bytesOut += s.bytesOut;
    totals.messagesIn += s.messagesIn;
    totals.messagesOut += s.messagesOut;
  }
  return {
    time: new Date().toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    ready: isReady(servers),
    totals,
    services,
  };
}

function serviceStats(server: ObservedServer): ServiceStats {
  const extra: Record<string, number> = {};
  for (const metric of server.metrics) {
    for (const sample of readServiceMetric(metric) ?? []) {
      const labels = Object.entries(sample.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",");
      extra[labels === "" ? metric.name : `${metric.name}{${labels}}`] = sample.value;
    }
  }
  return {
    service: server.service,
    address: server.address?.display ?? null,
    draining: server.draining,
    connectionsActive: server.connections.size,
    connectionsOpened: server.stats.connectionsOpened,
    ...server.stats.totals(server.connections.values()),
    rejected: Object.fromEntries(server.stats.rejected),
    errors: Object.fromEntries(server.stats.errors),
    backpressurePauses: server.stats.backpressurePauses,
    extra,
  };
}

/** Every peer of every service, oldest first, at most `limit` of them. */
export function peersSnapshot(
  servers: readonly ObservedServer[],
  limit = Number.POSITIVE_INFINITY,
): PeersSnapshot {
  let total = 0;
  const peers: PeerInfo[] = [];
  for (const server of servers) {
    total += server.connections.size;
    if (peers.length >= limit) continue;
    for (const peer of server.peers(limit - peers.length)) peers.push(peer);
  }
  return { total, peers };
}

/** Ready while no service is draining. */
export function isReady(servers: readonly ObservedServer[]): boolean {
  return servers.every((s) => !s.draining);
}
