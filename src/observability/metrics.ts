// The Prometheus registry of the admin endpoint. Engine counters are read at scrape
// time through collect() callbacks, so the hot path keeps incrementing plain fields
// per chunk and never touches prom-client; only the sampled latency is observed live.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../core/logger.js";
import type { Service, ServiceCounters } from "../core/service.js";
import { readServiceMetric, type ServiceMetric } from "../core/stats.js";

export const METRIC_PREFIX = "echoplex_";

/**
 * Seconds; replies inside one process take microseconds to a few ms, async services
 * longer, and the HTTP responder's answers wait their delay (4 s by default, 60 s at most).
 */
export const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  30, 60,
];

/** Reasons the engine refuses connections; exported as 0 before the first refusal. */
const REJECT_REASONS = ["max_connections", "max_connections_per_ip"];

export interface MetricsOptions {
  /** Time 1 read in this many (starting with the first); default 16. */
  latencySampleEvery?: number;
  /** Add the library's process metrics (event loop lag, heap, fds, CPU). Default true. */
  processMetrics?: boolean;
  logger?: Logger;
}

type Read = (counters: ServiceCounters, server: Service) => number;
type ReadByLabel = (counters: ServiceCounters) => ReadonlyMap<string, number>;

/** Builds a registry over `servers` and starts their latency sampling. */
export function createMetricsRegistry(servers: readonly Service[], options: MetricsOptions = {}): Registry {
  const registry = new Registry();
  const registers = [registry];

  const counter = (name: string, help: string, read: Read): void => {
    new Counter({
      name: METRIC_PREFIX + name,
      help,
      labelNames: ["service"],
      registers,
      collect() {
        this.reset();
        for (const s of servers) this.inc({ service: s.service }, read(s.stats(), s));
      },
    });
  };
  // One series per service and key of a map the counters hold (errors by code, connections by transport).
  const byLabel = (
    Metric: typeof Counter | typeof Gauge,
    name: string,
    help: string,
    label: string,
    read: ReadByLabel,
    known: readonly string[] = [],
  ): void => {
    new Metric({
      name: METRIC_PREFIX + name,
      help,
      labelNames: ["service", label],
      registers,
      collect() {
        this.reset();
        for (const s of servers) {
          for (const key of known) this.inc({ service: s.service, [label]: key }, 0);
          for (const [key, value] of read(s.stats())) this.inc({ service: s.service, [label]: key }, value);
        }
      },
    });
  };
  const counterByLabel = (name: string, help: string, label: string, read: ReadByLabel, known: string[]) =>
    byLabel(Counter, name, help, label, read, known);
  // `aggregator`: how the primary combines the workers' values under --workers (sum by default).
  const gaugeOf = (name: string, help: string, read: Read, aggregator: "sum" | "max" = "sum"): void => {
    new Gauge({
      name: METRIC_PREFIX + name,
      help,
      labelNames: ["service"],
      registers,
      aggregator,
      collect() {
        this.reset();
        for (const s of servers) this.inc({ service: s.service }, read(s.stats(), s));
      },
    });
  };
  const gaugeByLabel = (name: string, help: string, label: string, read: ReadByLabel) =>
    byLabel(Gauge, name, help, label, read);
  counter("connections_opened_total", "Connections accepted since start", (c) => c.connectionsOpened);
  counterByLabel(
    "transport_connections_opened_total",
    "Connections accepted since start, by transport (tcp, tls, unix, ws, udp)",
    "transport",
    (c) => c.openedByTransport,
    [],
  );
  gaugeByLabel(
    "transport_connections_active",
    "Connections open now, by transport (tcp, tls, unix, ws, udp)",
    "transport",
    (c) => c.activeByTransport,
  );
  gaugeOf("connections_active", "Connections open now", (c) => c.connectionsActive);
  counterByLabel(
    "connections_rejected_total",
    "Connections refused at accept, by reason",
    "reason",
    (c) => c.rejected,
    REJECT_REASONS,
  );
  counter("received_bytes_total", "Bytes received from peers", (c) => c.bytesIn);
  counter("sent_bytes_total", "Bytes written to peers", (c) => c.bytesOut);
  counter(
    "messages_received_total",
    "Messages (lines, frames, chunks; HTTP requests) received",
    (c) => c.messagesIn,
  );
  counter("messages_sent_total", "Messages queued to peers (HTTP responses)", (c) => c.messagesOut);
  counterByLabel("errors_total", "Errors by code (see docs/errors.md)", "code", (c) => c.errors, []);
  counter(
    "backpressure_pauses_total",
    "Times reading from a peer paused because its replies were not read",
    (c) => c.backpressurePauses,
  );
  counter("tls_handshake_failures_total", "TLS handshakes that failed", (c) => c.tlsHandshakeFailures);
  gaugeOf("draining", "1 while the service shuts down", (_, s) => (s.draining ? 1 : 0), "max");
  new Counter({
    name: `${METRIC_PREFIX}faults_applied_total`,
    help: "Injected faults applied (--fault, /api/faults), by kind",
    labelNames: ["service", "fault"],
    registers,
    collect() {
      this.reset();
      for (const s of servers) {
        for (const [fault, n] of s.faults?.applied ?? []) this.inc({ service: s.service, fault }, n);
      }
    },
  });

  new Histogram({
    name: `${METRIC_PREFIX}reply_latency_seconds`,
    help: "Sampled time from a request's arrival to the write of its reply",
    labelNames: ["service"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  for (const s of servers) sampleLatency(registry, s, options.latencySampleEvery);

  registerServiceMetrics(registry, servers, options.logger);

  if (options.processMetrics !== false) {
    try {
      collectDefaultMetrics({ register: registry });
    } catch (err) {
      // A runtime without some of Node's perf hooks still gets the echoplex metrics.
      options.logger?.warn({ err }, "process metrics unavailable");
    }
  }
  return registry;
}

/** Starts sampling the reply latency of `s` (a proxy created at run time joins this way). */
export function sampleLatency(registry: Registry, s: Service, every = 16): void {
  const latency = registry.getSingleMetric(`${METRIC_PREFIX}reply_latency_seconds`);
  if (!(latency instanceof Histogram)) return;
  // Exported with zero counts before the first answer, so a scrape sees the series at once.
  latency.zero({ service: s.service });
  const child = latency.labels(s.service);
  s.observeLatency((ms) => child.observe(ms / 1000), every);
}

/**
 * One prom metric per service metric name, fed by every server that defines it. The
 * owners are looked up at each scrape: `servers` may grow (proxies created at run time).
 */
function registerServiceMetrics(registry: Registry, servers: readonly Service[], logger?: Logger): void {
  const byName = new Map<string, ServiceMetric>();
  for (const server of servers) {
    for (const def of server.metrics) if (!byName.has(def.name)) byName.set(def.name, def);
  }
  for (const [name, def] of byName) {
    const labelNames = ["service", ...(def.labelNames ?? [])];
    const fill = (add: (labels: Record<string, string>, value: number) => void) => {
      for (const owner of servers) {
        const own = owner.metrics.find((m) => m.name === name);
        if (own === undefined) continue;
        // A faulty service metric (a reader that throws, a label it did not declare)
        // must not take /metrics down with it.
        const failed = (err: unknown) =>
          logger?.warn({ err, metric: name, service: owner.service }, "service metric failed");
        for (const sample of readServiceMetric(own, failed) ?? []) {
          try {
            add({ ...sample.labels, service: owner.service }, sample.value);
          } catch (err) {
            failed(err);
          }
        }
      }
    };
    const config = { name: METRIC_PREFIX + name, help: def.help, labelNames, registers: [registry] };
    try {
      if (def.type === "counter") {
        new Counter({
          ...config,
          collect() {
            this.reset();
            fill((labels, value) => this.inc(labels, value));
          },
        });
      } else {
        new Gauge({
          ...config,
          collect() {
            this.reset();
            fill((labels, value) => this.set(labels, value));
          },
        });
      }
    } catch (err) {
      logger?.warn({ err, metric: name }, "service metric not registered");
    }
  }
}
