// `echoplex serve`: several services in one process, with one logger and one shutdown.
import { Command, Option } from "commander";
import type { LogFormat, Logger, LogLevel } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";
import { loadConfig, type ServeConfig } from "../config.js";
import { type CommonEntry, tlsConfigFromEntry } from "../config-schema.js";
import {
  addAdminOptions,
  addLoggingOptions,
  addWorkersOption,
  cliLogger,
  type LoggingFlags,
  loadAndAnnounceTls,
  resolveListenAddress,
} from "../options.js";
import { type RegisteredService, SERVICES } from "../registry.js";
import { type RunFlags, type Runnable, runGroup } from "../run.js";

interface ServeFlags extends LoggingFlags, RunFlags {
  config?: string;
  only?: string;
  host?: string;
}

/** --host: one interface for every service (validated when parsed, so nothing starts on a bad one). */
function parseHost(text: string): string {
  let host: string | undefined;
  try {
    host = resolveListenAddress(undefined, { host: text }, 0).host;
  } catch (err) {
    throw new EchoplexError("ERR_BAD_ADDRESS", `bad --host "${text}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (host === undefined) throw new EchoplexError("ERR_BAD_ADDRESS", `bad --host "${text}": empty`);
  return host;
}

/** Where `serve` suggests the admin endpoint when it is off. */
const SUGGESTED_ADMIN = "127.0.0.1:9090";

/** Which services to start: --only, else those in the config, else all; minus `enabled: false`. */
function selectServices(
  registry: readonly RegisteredService[],
  config: ServeConfig,
  only: string | undefined,
): RegisteredService[] {
  const byName = new Map(registry.map((s) => [s.name, s]));
  let names: string[];
  if (only !== undefined) {
    names = only
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "");
    for (const name of names) {
      if (!byName.has(name)) {
        throw new EchoplexError(
          "ERR_BAD_OPTION",
          `--only: unknown service "${name}" (known: ${registry.map((s) => s.name).join(", ")})`,
        );
      }
    }
  } else if (config.services !== undefined) {
    names = Object.keys(config.services);
  } else {
    names = registry.map((s) => s.name);
  }
  const selected = names
    .filter((name) => config.services?.[name]?.enabled !== false)
    .map((name) => byName.get(name)!);
  if (selected.length === 0) throw new EchoplexError("ERR_CONFIG", "no services to start");
  return selected;
}

async function prepare(
  service: RegisteredService,
  entry: CommonEntry,
  logger: Logger,
  /** --host: where a service listens when its entry names no host. */
  defaultHost: string | undefined,
): Promise<Runnable> {
  let address: Runnable["address"];
  try {
    address = resolveListenAddress(
      entry.address === undefined ? undefined : String(entry.address),
      {
        ...(entry.port === undefined ? {} : { port: String(entry.port) }),
        ...(entry.host === undefined ? {} : { host: entry.host }),
      },
      service.defaultPort,
    );
  } catch (err) {
    throw new EchoplexError("ERR_CONFIG", `services.${service.name}.address: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (address.host === undefined && defaultHost !== undefined) address = { ...address, host: defaultHost };
  const tls =
    entry.tls === undefined
      ? undefined
      : (await loadAndAnnounceTls(tlsConfigFromEntry(entry.tls), service.name)).options;
  const { server, summary, observe } = service.create(entry, { logger, tls });
  return { name: service.name, summary, server, address, ...(observe === undefined ? {} : { observe }) };
}

export function serveCommand(registry: readonly RegisteredService[] = SERVICES): Command {
  const cmd = new Command("serve")
    .description(
      `run several services in one process (${registry.map((s) => `${s.name} :${s.defaultPort}`).join(", ")})`,
    )
    .option("-c, --config <file>", "JSON or YAML file choosing services, addresses and options")
    .option("--only <names>", "comma-separated services to start (default: all, or those in the config)")
    .addOption(
      new Option(
        "--host <host>",
        "interface every service listens on, unless its config entry names a host (default: all interfaces)",
      ).argParser(parseHost),
    );
  addWorkersOption(cmd);
  addAdminOptions(cmd);
  addLoggingOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  echoplex serve                          every service on its default port
  echoplex serve --only echo,http
  echoplex serve --host 127.0.0.1         every service on loopback only, default ports
  echoplex serve --admin ${SUGGESTED_ADMIN}     one admin endpoint (metrics, status page) over every service
  echoplex serve --config examples/serve.yaml`,
  );
  return cmd.action(async (flags: ServeFlags) => {
    const config: ServeConfig = flags.config === undefined ? {} : await loadConfig(flags.config, registry);
    // A flag given on the command line wins over the config file's log settings.
    const level: LogLevel =
      cmd.getOptionValueSource("logLevel") === "cli" ? flags.logLevel : (config.log?.level ?? flags.logLevel);
    const format: LogFormat =
      cmd.getOptionValueSource("logFormat") === "cli"
        ? flags.logFormat
        : (config.log?.format ?? flags.logFormat);
    const logger = cliLogger(level, format);
    const runnables: Runnable[] = [];
    for (const service of selectServices(registry, config, flags.only)) {
      const entry = (config.services?.[service.name] ?? service.schema.parse({})) as CommonEntry;
      runnables.push(await prepare(service, entry, logger, flags.host));
    }
    // Flags given on the command line win over the config file.
    const fromCli = (name: string) => cmd.getOptionValueSource(name) === "cli";
    const admin = fromCli("admin") ? flags.admin : (flags.admin ?? config.admin?.address);
    const adminToken = fromCli("adminToken") ? flags.adminToken : (config.admin?.token ?? flags.adminToken);
    const workers = fromCli("workers") ? flags.workers : (config.workers ?? flags.workers);
    // runGroup prints the one table of services (under --workers, the primary does).
    await runGroup(runnables, logger, {
      ...(admin === undefined ? {} : { admin }),
      ...(adminToken === undefined ? {} : { adminToken }),
      ...(workers === undefined ? {} : { workers }),
      table: { suggestAdmin: SUGGESTED_ADMIN },
    });
  });
}
