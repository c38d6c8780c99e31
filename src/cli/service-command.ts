// A service as the CLI knows it: its declared options and a factory over their values.
// `echoplex NAME` and `echoplex serve` both build a service through `create`, from the
// values of its flags or of its config entry: one option, one meaning.
import type { TlsOptions } from "node:tls";
import { Command } from "commander";
import type { LogFormat, Logger, LogLevel } from "../core/logger.js";
import type { Service } from "../core/service.js";
import type { ProxyLauncher } from "../observability/launcher.js";
import type { OptionSpec, OptionValues } from "../options/spec.js";
import { isClusterWorker } from "./cluster-worker.js";
import { addDeclaredOptions, valuesFromCommand } from "./option-commander.js";
import { cliLogger, resolveListenAddresses, type TlsFlags, tlsFromFlags } from "./options.js";
import { runServers } from "./run.js";
import { argumentAfterBooleanFlag } from "./usage.js";

/** What a factory gets besides its options: the shared logger, and TLS when configured. */
export interface ServiceContext {
  logger: Logger;
  tls: TlsOptions | undefined;
}

export interface ServiceDefinition {
  name: string;
  defaultPort: number;
  description: string;
  /** Every option the service takes, its own first: flags, config keys, --help and docs. */
  options: readonly OptionSpec[];
  /** --help's examples. */
  examples: string;
  /**
   * Under --workers the primary only forks, without building the service (chat must not
   * join a Redis chat from a process that serves no one).
   */
  primaryOnlyForks?: boolean;
  /** Checks across options of the command line and its `[addresses...]` (run before anything starts). */
  checkCommand?(values: OptionValues, positional: readonly string[]): void;
  /**
   * A launcher when the command starts with nothing to listen on (the proxy with `--admin`
   * and no LISTEN/--to): the admin endpoint then builds the services (POST /api/proxies).
   */
  emptyStart?(
    values: OptionValues,
    positional: readonly string[],
    ctx: ServiceContext,
  ): ProxyLauncher | undefined;
  /** Doors beyond the `[addresses...]`, from options (chat's `--irc`: `irc+ADDR`). */
  extraAddresses?(values: OptionValues): string[];
  /** Builds the service (not listening yet); its `describe().summary` is its start-up line. */
  create(values: OptionValues, ctx: ServiceContext): Service;
}

/** Where a service listens, from its `[addresses...]` (or config `address`) and --port/--host. */
export function listenAddressesOf(
  def: ServiceDefinition,
  addresses: readonly string[],
  values: OptionValues,
) {
  const port = values.port;
  const host = values.host as string | undefined;
  const doors = resolveListenAddresses(
    addresses,
    { ...(port === undefined ? {} : { port: String(port) }), ...(host === undefined ? {} : { host }) },
    def.defaultPort,
  );
  return [...doors, ...(def.extraAddresses?.(values) ?? [])];
}

/** TLS for the service from its values (undefined: plain TCP); prints the certificate it serves. */
export function tlsOf(def: ServiceDefinition, values: OptionValues): Promise<TlsOptions | undefined> {
  return tlsFromFlags(values as unknown as TlsFlags, def.name);
}

/** `echoplex NAME`: the service's options as flags, then one runnable. */
export function serviceCommand(def: ServiceDefinition): Command {
  const cmd = new Command(def.name)
    .description(def.description)
    .argument(
      "[addresses...]",
      `where to listen, one or more doors: PORT, :PORT, HOST:PORT, [IPv6]:PORT, tcp://…, tls://…, unix:/path, udp://…, ws://HOST:PORT/path, wss://… (default :${def.defaultPort})`,
    );
  addDeclaredOptions(cmd, def.options);
  cmd.addHelpText("after", def.examples);
  return cmd.action(async (positional: string[]) => {
    // Any number of addresses: `--raw 7` would silently listen on port 7 too.
    // Commander keeps the parsed argv on the program as `rawArgs` (not in its typings).
    const argv = (cmd.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? process.argv;
    // The first address may follow any flag (`--tls-self-signed 127.0.0.1:0`); a further one after a boolean flag was meant as its value.
    if (argumentAfterBooleanFlag(cmd, positional.slice(1), argv) !== undefined) {
      cmd.error("an argument after a flag that takes no value", {
        code: "commander.excessArguments",
        exitCode: 2,
      });
    }
    const values = valuesFromCommand(cmd, def.options);
    const logger = cliLogger(values.logLevel as LogLevel, values.logFormat as LogFormat);
    def.checkCommand?.(values, positional);
    const addresses = listenAddressesOf(def, positional, values);
    const run = {
      workers: values.workers as number,
      workersBalance: values.workersBalance as string,
      ...(values.admin === undefined ? {} : { admin: values.admin as string }),
      ...(values.adminToken === undefined ? {} : { adminToken: values.adminToken as string }),
    };
    if (def.primaryOnlyForks && run.workers > 1 && !isClusterWorker()) {
      await runServers([], logger, run);
      return;
    }
    const ctx = { logger, tls: await tlsOf(def, values) };
    const launcher = def.emptyStart?.(values, positional, ctx);
    if (launcher !== undefined) {
      await runServers([], logger, { ...run, launcher });
      return;
    }
    await runServers([{ service: def.create(values, ctx), addresses }], logger, run);
  });
}
