// Runs one or more servers as a foreground process: prints where they listen,
// starts the admin endpoint when asked (--admin), drains them on SIGINT/SIGTERM
// (a second signal exits at once), exits 0.
import type { Address } from "../core/address.js";
import { EchoplexError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { EchoplexServer, ListenInfo } from "../core/server.js";
import { type AdminServer, startAdmin } from "../observability/admin.js";
import { isObservable, type ObservedServer } from "../observability/source.js";
import type { AdminFlags } from "./options.js";

export interface Runnable {
  /** Label in the start-up line, e.g. "echo". */
  name: string;
  /** Shown after the address, e.g. `lines, prefix "ECHO: "`. */
  summary: string;
  server: Pick<EchoplexServer<unknown>, "listen" | "shutdown">;
  address: Address;
  /** What the admin endpoint reads; defaults to `server` when it is an engine server. */
  observe?: ObservedServer;
}

/**
 * Starts every runnable (and, with `flags.admin`, the admin endpoint over all of
 * them); pass the command's parsed flags as `flags`.
 */
export async function runServers(
  runnables: Runnable[],
  logger: Logger,
  flags: AdminFlags = {},
): Promise<void> {
  const started: Array<{ run: Runnable; info: ListenInfo }> = [];
  for (const run of runnables) {
    try {
      started.push({ run, info: await run.server.listen(run.address) });
    } catch (err) {
      await Promise.all(started.map((s) => s.run.server.shutdown({ drainTimeoutMs: 0 })));
      throw err;
    }
  }
  let admin: AdminServer | undefined;
  if (flags.admin !== undefined) {
    try {
      admin = await startRunnableAdmin(runnables, logger, flags.admin, flags.adminToken);
    } catch (err) {
      await Promise.all(started.map((s) => s.run.server.shutdown({ drainTimeoutMs: 0 })));
      throw err;
    }
  }
  for (const { run, info } of started) {
    process.stdout.write(`echoplex ${run.name} listening on ${info.display} (${run.summary})\n`);
  }
  if (admin !== undefined) {
    const url = `http://${admin.address.display}/`;
    process.stdout.write(
      `echoplex admin listening on ${admin.address.display} (status page ${url}, /metrics, /healthz, /readyz, /api/peers, /api/stats${flags.adminToken ? ", token required" : ""})\n`,
    );
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    logger.info({ signal }, "signal received, draining (send it again to exit at once)");
    // The admin endpoint stays up while draining, so /readyz can say so.
    Promise.all(started.map((s) => s.run.server.shutdown())).then(
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
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

function startRunnableAdmin(
  runnables: Runnable[],
  logger: Logger,
  address: string,
  token: string | undefined,
): Promise<AdminServer> {
  const observed: ObservedServer[] = [];
  for (const run of runnables) {
    const source = run.observe ?? (isObservable(run.server) ? run.server : undefined);
    if (source === undefined) {
      throw new EchoplexError("ERR_BAD_OPTION", `--admin: the ${run.name} service cannot be observed`);
    }
    observed.push(source);
  }
  return startAdmin(observed, { address, logger, ...(token === undefined ? {} : { token }) });
}
