// Faults changed at run time under --workers. The primary's admin endpoint relays each
// /api/faults and /api/proxies/NAME[/faults] request to every worker over the cluster
// IPC channel; each worker runs the same routes on its own services, and the primary
// answers once every worker has answered. After a change it keeps the group's faults
// (exported by one worker, ids included) and hands them to a worker that starts later
// (a restart) or that answered unlike the others, so every worker holds the same set.
import { Readable } from "node:stream";
import type { Logger } from "../core/logger.js";
import type { Service } from "../core/service.js";
import { parseFault } from "../faults/parse.js";
import { continueFaultIds, nextFaultId } from "../faults/registry.js";
import { error, FAULTS_PATH, faultRoute, type RouteRequest, withRegistry } from "./fault-routes.js";
import { changesFleet, isProxyRoute, NO_FLEET, proxyRoute } from "./proxy-routes.js";

/** A request of the fault routes as the primary relays it (the body read already). */
export interface RelayedRequest {
  method: string;
  path: string;
  body: string;
}

export interface RelayedAnswer {
  status: number;
  value: unknown;
}

/** Every service's faults in one worker, and where its ids continue. */
export interface FaultState {
  nextId: number;
  services: Array<{ service: string; faults: Array<{ id: number; text: string }> }>;
}

/** What the primary asks a worker, besides the snapshots of worker-aggregation. */
export type RelayQuery =
  | { kind: "fault-route"; request: RelayedRequest }
  | { kind: "faults-export" }
  | { kind: "faults-import"; state: FaultState };

// --- worker side -------------------------------------------------------------------

/** In a worker: answers one relay query over this worker's services. */
export async function answerRelay(services: readonly Service[], query: RelayQuery): Promise<unknown> {
  switch (query.kind) {
    case "fault-route":
      return runRoute(services, query.request);
    case "faults-export":
      return exportFaults(services);
    case "faults-import":
      importFaults(services, query.state);
      return true;
  }
}

async function runRoute(services: readonly Service[], request: RelayedRequest): Promise<RelayedAnswer> {
  const body = request.body === "" ? [] : [Buffer.from(request.body)];
  const req: RouteRequest = Object.assign(Readable.from(body), { method: request.method });
  let answer: RelayedAnswer = { status: 500, value: error("ERR_WORKER_RELAY", "the route did not answer") };
  const reply = (status: number, value: unknown) => {
    answer = { status, value };
  };
  const targets = { services };
  if (isProxyRoute(req, request.path)) await proxyRoute(req, request.path, targets, reply);
  else await faultRoute(req, request.path, targets, reply);
  return answer;
}

function exportFaults(services: readonly Service[]): FaultState {
  return {
    nextId: nextFaultId(),
    services: withRegistry(services).map(([s, registry]) => ({
      service: s.service,
      faults: registry.faults.map(({ id, text }) => ({ id, text })),
    })),
  };
}

function importFaults(services: readonly Service[], state: FaultState): void {
  const byName = new Map(state.services.map((s) => [s.service, s.faults]));
  for (const [s, registry] of withRegistry(services)) {
    const faults = byName.get(s.service) ?? [];
    const directions = registry.replyDirection !== "any";
    registry.restore(faults.map(({ id, text }) => ({ ...parseFault(text, { directions }), id })));
  }
  continueFaultIds(state.nextId);
}

// --- primary side ------------------------------------------------------------------

/** One worker as the relay sees it. */
export interface RelayWorker {
  readonly pid: number;
  ask(query: RelayQuery): Promise<unknown>;
}

const isRead = (method: string) => method === "GET" || method === "HEAD";

/** In the primary: relays the fault routes to `workers()` and keeps them in step. */
export class FaultRelay {
  /** Changes and hand-overs one at a time, so every worker applies them in one order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The group's faults after the last change; undefined until one is made. */
  private state: FaultState | undefined;

  constructor(
    private readonly workers: () => RelayWorker[],
    private readonly logger?: Logger,
  ) {}

  request(request: RelayedRequest): Promise<RelayedAnswer> {
    // Creating or deleting a proxy would need one per worker, each on its own port.
    if (changesFleet(request.method, request.path)) return Promise.resolve({ status: 501, value: NO_FLEET });
    if (isRead(request.method)) return this.read(request);
    return this.serial(() => this.change(request));
  }

  /** A worker now listening (started late, or restarted) gets the group's faults. */
  workerListening(worker: RelayWorker): void {
    void this.serial(async () => {
      if (this.state === undefined) return;
      await this.handOver([worker], this.state);
    });
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(request: RelayedRequest): Promise<RelayedAnswer> {
    const { answers, failed } = await this.askAll(request);
    if (answers.length === 0) return noWorker(failed);
    const first = answers[0]!.answer;
    if (request.path !== FAULTS_PATH || first.status !== 200) return first;
    // Each worker counts the faults it applied: the group's count is their sum.
    return { status: 200, value: sumApplied(answers.map((a) => a.answer.value)) };
  }

  private async change(request: RelayedRequest): Promise<RelayedAnswer> {
    const { answers, failed } = await this.askAll(request);
    if (answers.length === 0) return noWorker(failed);
    const reference = answers.find((a) => a.answer.status < 400) ?? answers[0]!;
    const same = (a: RelayedAnswer) =>
      a.status === reference.answer.status &&
      JSON.stringify(a.value) === JSON.stringify(reference.answer.value);
    const unlike = answers.filter((a) => !same(a.answer)).map((a) => a.worker);
    if (failed.length === 0 && unlike.length === 0 && reference.answer.status >= 400) return reference.answer;
    // Something changed somewhere: keep the reference worker's faults as the group's.
    try {
      this.state = (await reference.worker.ask({ kind: "faults-export" })) as FaultState;
    } catch (err) {
      return relayError(`worker ${reference.worker.pid} did not export its faults: ${String(err)}`);
    }
    const stillUnlike = await this.handOver([...unlike, ...failed.map((f) => f.worker)], this.state);
    if (stillUnlike.length > 0) {
      return relayError(
        `applied, but worker ${stillUnlike.map((w) => w.pid).join(", ")} did not take it (its faults may differ until it restarts)`,
      );
    }
    return reference.answer;
  }

  /** Gives `workers` the group's faults; returns those that did not take them. */
  private async handOver(workers: RelayWorker[], state: FaultState): Promise<RelayWorker[]> {
    const results = await Promise.allSettled(workers.map((w) => w.ask({ kind: "faults-import", state })));
    const refused: RelayWorker[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") return;
      refused.push(workers[i]!);
      this.logger?.warn({ worker: workers[i]!.pid, err: String(r.reason) }, "worker did not take the faults");
    });
    return refused;
  }

  private async askAll(request: RelayedRequest) {
    const workers = this.workers();
    const settled = await Promise.allSettled(workers.map((w) => w.ask({ kind: "fault-route", request })));
    const answers: Array<{ worker: RelayWorker; answer: RelayedAnswer }> = [];
    const failed: Array<{ worker: RelayWorker; reason: string }> = [];
    settled.forEach((r, i) => {
      const worker = workers[i]!;
      if (r.status === "fulfilled") answers.push({ worker, answer: r.value as RelayedAnswer });
      else {
        failed.push({ worker, reason: String(r.reason) });
        this.logger?.warn(
          { worker: worker.pid, path: request.path, err: String(r.reason) },
          "worker did not answer",
        );
      }
    });
    return { answers, failed };
  }
}

function relayError(message: string): RelayedAnswer {
  return { status: 502, value: error("ERR_WORKER_RELAY", message) };
}

function noWorker(failed: ReadonlyArray<{ worker: RelayWorker; reason: string }>): RelayedAnswer {
  const why = failed.map((f) => `worker ${f.worker.pid}: ${f.reason}`).join("; ");
  return {
    status: 503,
    value: error("ERR_WORKER_RELAY", `no worker answered${why === "" ? " (none is listening)" : `: ${why}`}`),
  };
}

interface Listed {
  services: Array<{ service: string; applied: Record<string, number> }>;
}

/** The workers' /api/faults listings as one: the faults of the first, `applied` summed. */
function sumApplied(values: readonly unknown[]): Listed {
  const [first, ...rest] = values as Listed[];
  const merged: Listed = structuredClone(first!);
  for (const other of rest) {
    for (const s of other.services) {
      const into = merged.services.find((m) => m.service === s.service);
      if (into === undefined) continue;
      for (const [kind, n] of Object.entries(s.applied)) into.applied[kind] = (into.applied[kind] ?? 0) + n;
    }
  }
  return merged;
}
