// `--workers N`: the primary forks N worker processes that run the same command
// and share its listening sockets (node:cluster), restarts a crashed worker with
// backoff, and turns SIGINT/SIGTERM into one graceful drain of the whole group.
import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../core/logger.js";
import type { ListenInfo } from "../core/server.js";
import { type ClusterMessage, WORKER_ENV } from "./cluster-worker.js";
import type { ListeningRow } from "./listening.js";
import { BALANCE_ENV, PORTS_ENV, type WorkerBalance } from "./worker-balance.js";

const shutdownMessage: ClusterMessage = { type: "echoplex:shutdown" };
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** A worker that lived this long resets the backoff. */
const STABLE_AFTER_MS = 30_000;

/** The running group, as the primary sees it. */
export interface Supervisor {
  /** Workers alive and listening (so they answer the admin endpoint's queries). */
  workers(): Worker[];
  /** True from the first SIGINT/SIGTERM on. */
  readonly draining: boolean;
  /** What the first worker to start listens on: the rows to print, and the addresses. */
  readonly listening: Promise<{ rows: ListeningRow[]; listening: ListenInfo[] }>;
}

interface PrimaryOptions {
  /** How the workers share the listening ports (default: shared). */
  balance?: WorkerBalance;
  /** Awaited after the last worker has exited, before the primary exits 0 (closes the admin endpoint). */
  beforeExit?: () => Promise<void>;
}

/**
 * Runs the primary: forks `count` workers (same argv), tells once what the first of
 * them listens on (the caller prints it), restarts crashed workers with exponential backoff, drains on the first
 * signal (a second one kills the group) and exits 0 when every worker has exited.
 */
export function runPrimary(count: number, logger: Logger, options: PrimaryOptions = {}): Supervisor {
  const balance = options.balance ?? "shared";
  // shared: workers accept from the primary's socket themselves. round-robin: the primary
  // accepts and passes each connection on. reuseport binds in the workers (see
  // worker-balance.ts); a Unix door, which SO_REUSEPORT cannot spread, is shared there.
  cluster.schedulingPolicy = balance === "round-robin" ? cluster.SCHED_RR : cluster.SCHED_NONE;
  /** Under reuseport: the first worker's ports, which every later worker binds too. */
  let groupPorts: number[] | undefined;
  let shuttingDown = false;
  let reported = false;
  let backoff = MIN_BACKOFF_MS;
  const startedAt = new Map<Worker, number>();
  const listeningWorkers = new Set<Worker>();
  let firstListening: (first: { rows: ListeningRow[]; listening: ListenInfo[] }) => void = () => {};
  const listening = new Promise<{ rows: ListeningRow[]; listening: ListenInfo[] }>((resolve) => {
    firstListening = resolve;
  });
  const exit = (code: number): void => {
    const hook = options.beforeExit?.() ?? Promise.resolve();
    hook.then(
      () => process.exit(code),
      () => process.exit(code),
    );
  };

  const fork = (): void => {
    const worker = cluster.fork({
      [WORKER_ENV]: "1",
      [BALANCE_ENV]: balance,
      ...(groupPorts === undefined ? {} : { [PORTS_ENV]: JSON.stringify(groupPorts) }),
    });
    startedAt.set(worker, Date.now());
    worker.on("message", (message: ClusterMessage) => {
      if (message?.type !== "echoplex:listening") return;
      listeningWorkers.add(worker);
      // A worker still starting when the drain began could not have heard it: tell it now.
      if (shuttingDown) worker.send(shutdownMessage);
      // reuseport: the others start once the first has bound, so that a port 0 is its port.
      if (balance === "reuseport" && groupPorts === undefined) {
        groupPorts = message.ports;
        for (let i = 1; i < count && !shuttingDown; i++) fork();
      }
      if (!reported) {
        reported = true;
        firstListening({ rows: message.rows, listening: message.listening });
      }
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    listeningWorkers.delete(worker);
    if (shuttingDown) {
      // Counted from our own map, not cluster.workers: node:cluster keeps a worker listed
      // until its IPC channel's "disconnect" has also come, which may follow "exit"; the
      // last worker's exit then found itself still listed, and the primary never exited.
      if (startedAt.size === 0) {
        logger.info("all workers exited");
        exit(0);
      }
      return;
    }
    if (lived > STABLE_AFTER_MS) backoff = MIN_BACKOFF_MS;
    logger.error(
      { worker: worker.process.pid, code, signal, restartInMs: backoff },
      "worker exited unexpectedly, restarting",
    );
    setTimeout(() => {
      if (!shuttingDown) fork();
    }, backoff);
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: killing all workers");
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    shuttingDown = true;
    logger.info({ signal, workers: count }, "signal received, draining all workers");
    // An IPC message rather than a signal: a terminal's Ctrl-C also reaches the
    // workers directly, and a forwarded second signal would force them to exit.
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send(shutdownMessage);
    }
    if (startedAt.size === 0) exit(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  logger.info({ workers: count, balance }, "starting workers");
  for (let i = 0; i < (balance === "reuseport" ? 1 : count); i++) fork();
  return {
    workers: () => [...listeningWorkers],
    get draining() {
      return shuttingDown;
    },
    listening,
  };
}
