// The merging rules of the admin endpoint under --workers (pure functions): stats
// summed per service, peers tagged by worker pid, oldest first, limit after merging.
import { describe, expect, it } from "vitest";
import type { PeerInfo } from "../../src/core/connection.js";
import type { ServiceStats, StatsSnapshot } from "../../src/observability/snapshot.js";
import { mergePeers, mergeStats } from "../../src/observability/worker-aggregation.js";

function service(name: string, n: number, extra: Partial<ServiceStats> = {}): ServiceStats {
  return {
    service: name,
    address: "127.0.0.1:7000",
    draining: false,
    connectionsActive: n,
    connectionsOpened: n * 2,
    bytesIn: n * 10,
    bytesOut: n * 20,
    messagesIn: n * 3,
    messagesOut: n * 4,
    rejected: {},
    errors: {},
    backpressurePauses: 0,
    extra: {},
    ...extra,
  };
}

function snapshot(services: ServiceStats[], ready = true): StatsSnapshot {
  const totals = {
    connectionsActive: 0,
    connectionsOpened: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  for (const s of services)
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += s[k];
  return { time: "", uptimeSeconds: 1, ready, totals, services };
}

function peer(id: number, connectedAt: string): PeerInfo {
  return {
    id,
    service: "echo",
    transport: "tcp",
    remoteAddress: "127.0.0.1",
    remotePort: 40000 + id,
    tls: false,
    connectedAt,
    idleMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    status: "open",
  };
}

describe("mergeStats", () => {
  it("sums every counter per service and in total, keyed maps included", () => {
    const a = snapshot([
      service("echo", 1, { rejected: { max_connections: 2 }, errors: { ERR_LINE_TOO_LONG: 1 } }),
      service("http", 2, { extra: { 'http_responses_total{code="200"}': 5 } }),
    ]);
    const b = snapshot([
      service("echo", 3, { errors: { ERR_LINE_TOO_LONG: 2, ERR_IDLE_TIMEOUT: 1 }, draining: true }),
      service("http", 1, {
        extra: { 'http_responses_total{code="200"}': 1, 'http_responses_total{code="503"}': 4 },
      }),
    ]);
    const merged = mergeStats([a, b], Date.now());
    expect(merged.totals).toEqual({
      connectionsActive: 7,
      connectionsOpened: 14,
      bytesIn: 70,
      bytesOut: 140,
      messagesIn: 21,
      messagesOut: 28,
    });
    const echo = merged.services.find((s) => s.service === "echo")!;
    expect(echo).toMatchObject({
      connectionsActive: 4,
      draining: true,
      rejected: { max_connections: 2 },
      errors: { ERR_LINE_TOO_LONG: 3, ERR_IDLE_TIMEOUT: 1 },
    });
    const http = merged.services.find((s) => s.service === "http")!;
    expect(http.extra).toEqual({
      'http_responses_total{code="200"}': 6,
      'http_responses_total{code="503"}': 4,
    });
    // The inputs are left as they were.
    expect(a.services[0]!.errors).toEqual({ ERR_LINE_TOO_LONG: 1 });
  });

  it("is not ready when one worker is not", () => {
    expect(mergeStats([snapshot([service("echo", 1)]), snapshot([service("echo", 1)], false)], 0).ready).toBe(
      false,
    );
  });
});

describe("mergePeers", () => {
  it("tags each peer with its worker, lists the oldest first and applies the limit after merging", () => {
    const merged = mergePeers(
      [
        {
          pid: 101,
          value: {
            total: 2,
            peers: [peer(1, "2026-01-01T00:00:01.000Z"), peer(2, "2026-01-01T00:00:04.000Z")],
          },
        },
        {
          pid: 202,
          value: {
            total: 2,
            peers: [peer(1, "2026-01-01T00:00:02.000Z"), peer(2, "2026-01-01T00:00:03.000Z")],
          },
        },
      ],
      3,
    );
    expect(merged.total).toBe(4);
    expect(merged.peers.map((p) => `${p.worker}/${p.id}`)).toEqual(["101/1", "202/1", "202/2"]);
  });
});
