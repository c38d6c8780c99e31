// Runs one or more servers as a foreground process: prints where they listen,
// drains them on SIGINT/SIGTERM (a second signal exits at once), exits 0.
// With --workers N the process becomes a supervisor of N such processes.
import type { Address } from "../core/address.js";
import type { Logger } from "../core/logger.js";
import type { EchoplexServer, ListenInfo } from "../core/server.js";
import { isClusterWorker, onPrimaryShutdown, reportListening, runPrimary } from "./cluster.js";

export interface Runnable {
  /** Label in the start-up line, e.g. "echo". */
  name: string;
  /** Shown after the address, e.g. `lines, prefix "ECHO: "`. */
  summary: string;
  server: Pick<EchoplexServer<unknown>, "listen" | "shutdown">;
  address: Address;
}

export interface RunOptions {
  /** Worker processes (node:cluster); 1 runs the servers in this process. */
  workers?: number;
}

export async function runServers(
  runnables: Runnable[],
  logger: Logger,
  options: RunOptions = {},
): Promise<void> {
  const workers = options.workers ?? 1;
  if (workers > 1 && !isClusterWorker()) {
    runPrimary(workers, logger);
    return;
  }
  // A worker may be asked to stop before it has finished starting.
  let stopRequested = false;
  let drain = () => {
    stopRequested = true;
  };
  if (isClusterWorker()) {
    onPrimaryShutdown(() => drain());
    process.on("disconnect", () => drain()); // the primary is gone
  }
  const started: Array<{ run: Runnable; info: ListenInfo }> = [];
  for (const run of runnables) {
    try {
      started.push({ run, info: await run.server.listen(run.address) });
    } catch (err) {
      await Promise.all(started.map((s) => s.run.server.shutdown({ drainTimeoutMs: 0 })));
      throw err;
    }
  }
  const lines = started.map(
    ({ run, info }) => `echoplex ${run.name} listening on ${info.display} (${run.summary})`,
  );
  if (isClusterWorker()) reportListening(lines);
  else for (const line of lines) process.stdout.write(`${line}\n`);

  let draining = false;
  drain = () => {
    if (draining) return;
    draining = true;
    Promise.all(started.map((s) => s.run.server.shutdown())).then(
      () => process.exit(0),
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
  if (stopRequested) drain();
}
