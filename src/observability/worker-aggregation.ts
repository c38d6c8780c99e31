// The admin endpoint under --workers: the primary runs the one endpoint and asks
// every worker over the cluster IPC channel for its snapshot (metrics as prom-client
// JSON, stats, peers, readiness), then merges them: metrics through prom-client's
// AggregatorRegistry, stats summed per service, peers tagged with the worker's pid.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { Logger } from "../core/logger.js";
import type { Service } from "../core/service.js";
import type { AdminSource } from "./admin.js";
import { answerRelay, FaultRelay, type RelayQuery, type RelayWorker } from "./fault-relay.js";
import { createMetricsRegistry, type MetricsOptions } from "./metrics.js";
import {
  type ListedPeer,
  type PeersSnapshot,
  peersSnapshot,
  type Readiness,
  readiness,
  type ServiceStats,
  type StatsSnapshot,
  statsSnapshot,
  sumTotals,
} from "./snapshot.js";

type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** What the primary asks; `limit: null` means every peer (JSON has no Infinity). */
type SnapshotQuery =
  | { kind: "metrics" }
  | { kind: "stats" }
  | { kind: "peers"; limit: number | null }
  | { kind: "readiness" };

type AdminQuery = SnapshotQuery | RelayQuery;

interface Answers {
  metrics: WorkerMetrics;
  stats: StatsSnapshot;
  peers: PeersSnapshot;
  readiness: Readiness;
}

type AdminIpcMessage =
  | { type: "echoplex:admin-request"; id: number; query: AdminQuery }
  | { type: "echoplex:admin-reply"; id: number; value: unknown }
  | { type: "echoplex:admin-error"; id: number; error: string };

/** A worker that did not answer within this is left out of that answer (and logged). */
const WORKER_ANSWER_TIMEOUT_MS = 3000;

function isAdminMessage(message: unknown): message is AdminIpcMessage {
  if (typeof message !== "object" || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return (
    type === "echoplex:admin-request" || type === "echoplex:admin-reply" || type === "echoplex:admin-error"
  );
}

// --- worker side -------------------------------------------------------------------

/**
 * In a worker: builds the metrics registry over `servers` (starting their latency
 * sampling) and answers the primary's admin queries until the process exits.
 */
export function answerPrimary(servers: readonly Service[], options: MetricsOptions = {}): void {
  const registry = createMetricsRegistry(servers, options);
  const startedAt = Date.now();
  const answer = async (query: AdminQuery): Promise<unknown> => {
    switch (query.kind) {
      case "metrics":
        return registry.getMetricsAsJSON();
      case "stats":
        return statsSnapshot(servers, startedAt);
      case "peers":
        return peersSnapshot(servers, query.limit ?? Number.POSITIVE_INFINITY);
      case "readiness":
        return readiness(servers);
      default:
        return answerRelay(servers, query);
    }
  };
  process.on("message", (message: unknown) => {
    if (!isAdminMessage(message) || message.type !== "echoplex:admin-request") return;
    const { id } = message;
    answer(message.query).then(
      (value) => send({ type: "echoplex:admin-reply", id, value }),
      (err: unknown) => send({ type: "echoplex:admin-error", id, error: String(err) }),
    );
  });
}

function send(message: AdminIpcMessage): void {
  // The channel may be closing while the worker drains; a lost answer only times out.
  if (process.connected) process.send?.(message, undefined, {}, () => {});
}

// --- primary side ------------------------------------------------------------------

/** What the primary knows of its group. */
export interface WorkerGroup {
  /** Workers alive now. */
  workers(): Worker[];
  /** True from the first SIGINT/SIGTERM on. */
  readonly draining: boolean;
  /** Service names the workers run (for /readyz while the group drains). */
  readonly services: readonly string[];
}

interface Waiting {
  worker: Worker;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** In the primary: an AdminSource that asks every worker of `group` and merges the answers. */
export function clusterAdminSource(group: WorkerGroup, logger?: Logger): AdminSource {
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  const startedAt = Date.now();
  cluster.on("message", (worker: Worker, message: unknown) => {
    // A worker that starts listening (late, or restarted) takes the faults changed at run time.
    if ((message as { type?: unknown } | null)?.type === "echoplex:listening") {
      relay.workerListening(relayWorker(worker));
      return;
    }
    if (!isAdminMessage(message) || message.type === "echoplex:admin-request") return;
    const w = waiting.get(message.id);
    if (w === undefined) return; // answered after its timeout
    waiting.delete(message.id);
    if (message.type === "echoplex:admin-reply") w.resolve(message.value);
    else w.reject(new Error(message.error));
  });
  // A worker that exits (it drained, or crashed) will not answer: stop waiting for it at once.
  cluster.on("disconnect", (worker: Worker) => {
    for (const [id, w] of waiting) {
      if (w.worker !== worker) continue;
      waiting.delete(id);
      w.reject(new Error("worker exited"));
    }
  });

  const askOne = (worker: Worker, query: AdminQuery): Promise<unknown> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`no answer within ${WORKER_ANSWER_TIMEOUT_MS} ms`));
      }, WORKER_ANSWER_TIMEOUT_MS);
      waiting.set(id, {
        worker,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      const request: AdminIpcMessage = { type: "echoplex:admin-request", id, query };
      // With a callback a closed channel is reported here instead of as an 'error' event.
      worker.send(request, undefined, {}, (err: Error | null) => {
        if (err === null) return;
        waiting.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  };

  const relayWorker = (worker: Worker): RelayWorker => ({
    pid: worker.process.pid ?? 0,
    ask: (query) => askOne(worker, query),
  });
  const relay = new FaultRelay(
    () =>
      group
        .workers()
        .filter((w) => w.isConnected())
        .map(relayWorker),
    logger,
  );

  /** Every live worker's answer; a worker that fails to answer is logged and left out. */
  async function askAll<K extends keyof Answers>(
    query: Extract<SnapshotQuery, { kind: K }>,
  ): Promise<Array<{ pid: number; value: Answers[K] }>> {
    const workers = group.workers().filter((w) => w.isConnected());
    const settled = await Promise.allSettled(workers.map((w) => askOne(w, query)));
    const out: Array<{ pid: number; value: Answers[K] }> = [];
    settled.forEach((result, i) => {
      const pid = workers[i]!.process.pid ?? 0;
      // The worker built the value from the same snapshot functions as a single process.
      if (result.status === "fulfilled") out.push({ pid, value: result.value as Answers[K] });
      else logger?.warn({ worker: pid, query: query.kind, err: result.reason }, "worker did not answer");
    });
    return out;
  }

  return {
    relayFaults: (request) => relay.request(request),
    async metrics() {
      const answers = await askAll({ kind: "metrics" });
      const registry = AggregatorRegistry.aggregate(answers.map((a) => a.value));
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    async stats() {
      const answers = await askAll({ kind: "stats" });
      const merged = mergeStats(
        answers.map((a) => a.value),
        startedAt,
      );
      merged.ready = merged.ready && !group.draining && answers.length > 0;
      merged.workers = answers.map((a) => ({
        pid: a.pid,
        connectionsActive: a.value.totals.connectionsActive,
        uptimeSeconds: a.value.uptimeSeconds,
      }));
      return merged;
    },
    async peers(limit) {
      const answers = await askAll({
        kind: "peers",
        limit: limit === Number.POSITIVE_INFINITY ? null : limit,
      });
      return mergePeers(answers, limit);
    },
    async readiness() {
      // Draining is the primary's own decision: no need to ask (some workers may be gone).
      if (group.draining) return { ready: false, draining: [...group.services] };
      const answers = await askAll({ kind: "readiness" });
      const draining = new Set<string>();
      for (const a of answers) for (const name of a.value.draining) draining.add(name);
      return {
        ready: answers.length > 0 && answers.every((a) => a.value.ready),
        draining: [...draining],
      };
    },
  };
}

/** Sums the workers' stats per service (gauges such as active connections too). */
export function mergeStats(parts: readonly StatsSnapshot[], startedAt: number): StatsSnapshot {
  const byService = new Map<string, ServiceStats>();
  const totals = sumTotals(parts.map((part) => part.totals));
  for (const part of parts) {
    for (const s of part.services) {
      const into = byService.get(s.service);
      if (into === undefined) {
        byService.set(s.service, {
          ...s,
          rejected: { ...s.rejected },
          errors: { ...s.errors },
          extra: { ...s.extra },
        });
        continue;
      }
      into.draining ||= s.draining;
      into.address ??= s.address;
      into.connectionsActive += s.connectionsActive;
      into.connectionsOpened += s.connectionsOpened;
      into.bytesIn += s.bytesIn;
      into.bytesOut += s.bytesOut;
      into.messagesIn += s.messagesIn;
      into.messagesOut += s.messagesOut;
      into.backpressurePauses += s.backpressurePauses;
      addInto(into.rejected, s.rejected);
      addInto(into.errors, s.errors);
      addInto(into.extra, s.extra);
    }
  }
  return {
    time: new Date().toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    ready: parts.every((p) => p.ready),
    totals,
    services: [...byService.values()],
  };
}

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** One listing of every worker's peers, each tagged with its worker's pid, oldest first. */
export function mergePeers(
  parts: ReadonlyArray<{ pid: number; value: PeersSnapshot }>,
  limit: number,
): PeersSnapshot {
  let total = 0;
  const peers: ListedPeer[] = [];
  for (const { pid, value } of parts) {
    total += value.total;
    for (const peer of value.peers) peers.push({ ...peer, worker: pid });
  }
  peers.sort((a, b) => a.connectedAt.localeCompare(b.connectedAt));
  return { total, peers: peers.length > limit ? peers.slice(0, limit) : peers };
}
