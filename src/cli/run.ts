// Runs one or more servers as a foreground process: prints where they listen,
// starts the admin endpoint when asked (--admin), drains them on SIGINT/SIGTERM
// (a second signal exits at once), exits 0. With --workers N the process becomes
// a supervisor of N such processes.
import type { Address } from "../core/address.js";
import type { Logger } from "../core/logger.js";
import type { ListenInfo } from "../core/server.js";
import type { Service } from "../core/service.js";
// The admin endpoint (and prom-client with it) is loaded only with --admin: a server without it does not pay its memory.
import type { AdminEndpoint } from "../observability/admin.js";
import type { ProxyLauncher } from "../observability/launcher.js";
import type { WorkerGroup } from "../observability/worker-aggregation.js";
import { isClusterWorker, onPrimaryShutdown, reportListening } from "./cluster-worker.js";
import { formatListening, type ListeningRow } from "./listening.js";
import type { AdminFlags } from "./options.js";
import type { Supervisor } from "./supervisor.js";
import { adoptBalance, resolveBalance, type WorkerBalance } from "./worker-balance.js";

export interface Runnable {
  /** Its start-up line comes from `service.describe()`; the admin endpoint reads it as it is. */
  service: Service;
  /** Its doors: each an Address (a bare form) or an address as written (`udp://…`, `unix:…`). */
  addresses: ReadonlyArray<Address | string>;
}

/** A runnable once it listens: where, door by door (`info` is its first door). */
interface Started {
  run: Runnable;
  info: ListenInfo;
  doors: ListenInfo[];
}

export interface RunFlags extends AdminFlags {
  /** Worker processes (node:cluster); 1 runs the servers in this process. */
  workers?: number;
  /** --workers-balance: how workers share a port (`auto` when absent). */
  workersBalance?: string;
  /**
   * serve: print the services as one aligned table, with an admin row also when the
   * endpoint is off (suggesting --admin at this address).
   */
  table?: { suggestAdmin: string };
  /** What POST /api/proxies builds with when no runnable brought a launcher (a proxy started empty). */
  launcher?: ProxyLauncher;
}

/**
 * Starts every runnable (all or none; with `flags.admin`, also the admin endpoint
 * over all of them), prints where each listens and returns that. Pass the command's
 * parsed flags as `flags`.
 */
export async function runServers(
  runnables: Runnable[],
  logger: Logger,
  flags: RunFlags = {},
): Promise<Array<{ run: Runnable; info: ListenInfo }>> {
  return (await runGroup(runnables, logger, flags)).started;
}

interface RunResult {
  /** Each runnable with where it listens (under --workers: where the first worker listens). */
  started: Array<{ run: Runnable; info: ListenInfo }>;
  /** Where the admin endpoint listens (in a worker: undefined, the primary runs it). */
  admin: ListenInfo | undefined;
}

/** runServers, also telling where the admin endpoint listens (serve prints it in its table). */
export async function runGroup(
  runnables: Runnable[],
  logger: Logger,
  flags: RunFlags = {},
): Promise<RunResult> {
  const workers = flags.workers ?? 1;
  // Checked before anything listens: `reuseport` where the runtime cannot is a usage error.
  const balance = resolveBalance(flags.workersBalance);
  if (workers > 1 && !isClusterWorker()) return supervise(runnables, logger, flags, workers, balance);
  // A worker may be asked to stop before it has finished starting.
  let stopRequested = false;
  let drain = () => {
    stopRequested = true;
  };
  if (isClusterWorker()) {
    adoptBalance();
    onPrimaryShutdown(() => drain());
    process.on("disconnect", () => drain()); // the primary is gone
  }
  const started: Started[] = [];
  for (const run of runnables) {
    try {
      const doors: ListenInfo[] = [];
      try {
        for (const address of run.addresses) doors.push(await run.service.listen(address));
      } finally {
        // A service that fails on its second door has its first open: it is shut down too.
        if (doors.length > 0) started.push({ run, info: doors[0]!, doors });
      }
    } catch (err) {
      await Promise.all(started.map((s) => s.run.service.shutdown({ drainTimeoutMs: 0 })));
      throw err;
    }
  }
  let admin: AdminEndpoint | undefined;
  if (flags.admin !== undefined) {
    try {
      const observed = runnables.map((r) => r.service);
      // A worker's admin data goes to the primary, which runs the one endpoint of the group.
      if (isClusterWorker()) {
        const { answerPrimary } = await import("../observability/worker-aggregation.js");
        answerPrimary(observed, { logger: logger.child({ service: "admin" }) });
      } else {
        const { startAdmin } = await import("../observability/admin.js");
        admin = await startAdmin(observed, {
          address: flags.admin,
          logger,
          ...(flags.adminToken === undefined ? {} : { token: flags.adminToken }),
          ...(flags.launcher === undefined ? {} : { launcher: flags.launcher }),
        });
      }
    } catch (err) {
      await Promise.all(started.map((s) => s.run.service.shutdown({ drainTimeoutMs: 0 })));
      throw err;
    }
  }
  let draining = false;
  drain = () => {
    if (draining) return;
    draining = true;
    // The admin endpoint stays up while draining, so /readyz can say so.
    Promise.all(started.map((s) => s.run.service.shutdown())).then(
      async () => {
        await admin?.close();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    logger.info({ signal }, "signal received, draining (send it again to exit at once)");
    drain();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Only now say where we listen: whoever reads that line may signal at once, and a
  // signal before the handlers exist would kill the process without a drain.
  const rows: ListeningRow[] = started.flatMap(({ run, doors }) => {
    const { name, summary } = run.service.describe();
    return doors.map((info) => ({
      name,
      address: info.display,
      details: info.tls ? `${summary}, TLS` : summary,
    }));
  });
  // A worker's primary runs the admin endpoint and prints the group's rows.
  if (isClusterWorker()) {
    reportListening(
      rows,
      started.map((s) => s.info),
    );
  } else {
    rows.push(...adminRows(admin, flags));
    process.stdout.write(formatListening(rows, flags.table !== undefined));
  }
  if (stopRequested) drain();
  return { started, admin: admin?.address };
}

/** The admin endpoint's row: where it listens, or (serve's table) how to turn it on. */
function adminRows(admin: AdminEndpoint | undefined, flags: RunFlags, suffix?: string): ListeningRow[] {
  if (admin === undefined) {
    if (flags.table === undefined) return [];
    const details = `add --admin ${flags.table.suggestAdmin} for metrics, health checks and a status page`;
    return [{ name: "admin", address: undefined, details }];
  }
  const where = admin.address.display;
  return [
    {
      name: "admin",
      address: where,
      details: `status page http://${where}/, /metrics, /healthz, /readyz, /api/peers, /api/stats${flags.adminToken ? ", token required" : ""}`,
      ...(suffix === undefined ? {} : { suffix }),
    },
  ];
}

/**
 * The primary of --workers: starts the group's one admin endpoint first (a taken
 * address fails before any worker starts), then the workers; resolves when the
 * first worker listens, with its addresses.
 */
async function supervise(
  runnables: Runnable[],
  logger: Logger,
  flags: RunFlags,
  count: number,
  balance: WorkerBalance,
): Promise<RunResult> {
  let supervisor: Supervisor | undefined;
  let admin: AdminEndpoint | undefined;
  if (flags.admin !== undefined) {
    const adminLogger = logger.child({ service: "admin" });
    const group: WorkerGroup = {
      workers: () => supervisor?.workers() ?? [],
      get draining() {
        return supervisor?.draining ?? false;
      },
      services: runnables.map((r) => r.service.service),
    };
    const [{ startAdminEndpoint }, { clusterAdminSource }] = await Promise.all([
      import("../observability/admin.js"),
      import("../observability/worker-aggregation.js"),
    ]);
    admin = await startAdminEndpoint(clusterAdminSource(group, adminLogger), {
      address: flags.admin,
      logger: adminLogger,
      ...(flags.adminToken === undefined ? {} : { token: flags.adminToken }),
    });
  }
  // node:cluster is loaded only by a primary: a single process does not pay its memory.
  const { runPrimary } = await import("./supervisor.js");
  supervisor = runPrimary(count, logger, { balance, beforeExit: async () => admin?.close() });
  const first = await supervisor.listening;
  const rows: ListeningRow[] = first.rows.map((row) => ({ ...row, suffix: `[${count} workers]` }));
  rows.push(...adminRows(admin, flags, `[all ${count} workers]`));
  process.stdout.write(formatListening(rows, flags.table !== undefined));
  return {
    started: runnables.map((run, i) => ({ run, info: first.listening[i]! })),
    admin: admin?.address,
  };
}
