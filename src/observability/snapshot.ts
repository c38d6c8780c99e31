// The JSON views of the admin endpoint: /api/stats (counters per service and in
// total) and /api/peers (every connection), computed from the engine on demand.
import type { PeerInfo } from "../core/connection.js";
import type { Service } from "../core/service.js";
import { readServiceMetric, type TrafficTotals } from "../core/stats.js";

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
  /** Under --workers: the workers that answered (the totals are their sums). */
  workers?: Array<{ pid: number; connectionsActive: number; uptimeSeconds: number }>;
}

/** A peer as listed; under `--workers` each carries the pid of the worker that holds it. */
export type ListedPeer = PeerInfo & { worker?: number };

export interface PeersSnapshot {
  /** Connections in all services. */
  total: number;
  /** Peers listed (at most `limit` when one was asked for). */
  peers: ListedPeer[];
}

type Totals = StatsSnapshot["totals"];

/** The totals of a snapshot: the sum of its services' (or, under --workers, of the workers' totals). */
export function sumTotals(rows: Iterable<Totals>): Totals {
  const totals: Totals = {
    connectionsActive: 0,
    connectionsOpened: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  for (const row of rows) {
    for (const key of Object.keys(totals) as Array<keyof Totals>) totals[key] += row[key];
  }
  return totals;
}

export function statsSnapshot(servers: readonly Service[], startedAt: number): StatsSnapshot {
  const services = servers.map(serviceStats);
  const totals = sumTotals(services);
  return {
    time: new Date().toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    ready: isReady(servers),
    totals,
    services,
  };
}

function serviceStats(server: Service): ServiceStats {
  const extra: Record<string, number> = {};
  for (const metric of server.metrics) {
    for (const sample of readServiceMetric(metric) ?? []) {
      const labels = Object.entries(sample.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",");
      extra[labels === "" ? metric.name : `${metric.name}{${labels}}`] = sample.value;
    }
  }
  const c = server.stats();
  return {
    service: server.service,
    address: server.address?.display ?? null,
    draining: server.draining,
    connectionsActive: c.connectionsActive,
    connectionsOpened: c.connectionsOpened,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    messagesIn: c.messagesIn,
    messagesOut: c.messagesOut,
    rejected: Object.fromEntries(c.rejected),
    errors: Object.fromEntries(c.errors),
    backpressurePauses: c.backpressurePauses,
    extra,
  };
}

/** Every peer of every service, oldest first, at most `limit` of them. */
export function peersSnapshot(servers: readonly Service[], limit = Number.POSITIVE_INFINITY): PeersSnapshot {
  let total = 0;
  const peers: ListedPeer[] = [];
  for (const server of servers) {
    total += server.stats().connectionsActive;
    if (peers.length >= limit) continue;
    for (const peer of server.peers(limit - peers.length)) peers.push(peer);
  }
  return { total, peers };
}

/** Ready while no service is draining. */
function isReady(servers: readonly Service[]): boolean {
  return servers.every((s) => !s.draining);
}

/** The answer of /readyz: ready, and which services drain. */
export interface Readiness {
  ready: boolean;
  draining: string[];
}

export function readiness(servers: readonly Service[]): Readiness {
  return { ready: isReady(servers), draining: servers.filter((s) => s.draining).map((s) => s.service) };
}
