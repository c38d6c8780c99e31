// Runs one or more servers as a foreground process: prints where they listen,
// drains them on SIGINT/SIGTERM (a second signal exits at once), exits 0.
import type { Address } from "../core/address.js";
import type { Logger } from "../core/logger.js";
import type { EchoplexServer, ListenInfo } from "../core/server.js";

export interface Runnable {
  /** Label in the start-up line, e.g. "echo". */
  name: string;
  /** Shown after the address, e.g. `lines, prefix "ECHO: "`. */
  summary: string;
  server: Pick<EchoplexServer<unknown>, "listen" | "shutdown">;
  address: Address;
}

/** Starts every server (all or none), prints where each listens, and returns that. */
export async function runServers(
  runnables: Runnable[],
  logger: Logger,
): Promise<Array<{ run: Runnable; info: ListenInfo }>> {
  const started: Array<{ run: Runnable; info: ListenInfo }> = [];
  for (const run of runnables) {
    try {
      started.push({ run, info: await run.server.listen(run.address) });
    } catch (err) {
      await Promise.all(started.map((s) => s.run.server.shutdown({ drainTimeoutMs: 0 })));
      throw err;
    }
  }
  for (const { run, info } of started) {
    const summary = info.tls ? `${run.summary}, TLS` : run.summary;
    process.stdout.write(`echoplex ${run.name} listening on ${info.display} (${summary})\n`);
  }

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    logger.info({ signal }, "signal received, draining (send it again to exit at once)");
    Promise.all(started.map((s) => s.run.server.shutdown())).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return started;
}
