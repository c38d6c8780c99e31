// `echoplex serve`: several services in one process, with one logger and one shutdown.
import { Command, Option } from "commander";
import type { LogFormat, Logger, LogLevel } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";
import type { ProxyLauncher } from "../../observability/launcher.js";
import { PROCESS_OPTIONS } from "../../options/shared.js";
import { loadConfig, type ServeConfig } from "../config.js";
import type { CommonEntry } from "../config-schema.js";
import { addDeclaredOptions, givenOnCommandLine, valuesFromCommand } from "../option-commander.js";
import { valuesFromEntry } from "../option-schema.js";
import { cliLogger, resolveListenAddress } from "../options.js";
import { NAMED_ONLY, type RegisteredService, SERVICES } from "../registry.js";
import { type Runnable, runGroup } from "../run.js";
import { listenAddressesOf, tlsOf } from "../service-command.js";

interface ServeFlags {
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

/** Which services to start: --only, else those in the config, else all but the named-only; minus `enabled: false`. */
function selectServices(
  registry: readonly RegisteredService[],
  namedOnly: readonly RegisteredService[],
  config: ServeConfig,
  only: string | undefined,
): RegisteredService[] {
  const known = [...registry, ...namedOnly];
  const byName = new Map(known.map((s) => [s.name, s]));
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
          `--only: unknown service "${name}" (known: ${known.map((s) => s.name).join(", ")})`,
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

/** A service to run, or (a proxy entry with no upstream and no address) the launcher of the proxies POST /api/proxies creates. */
type Prepared = { runnable: Runnable } | { launcher: ProxyLauncher };

async function prepare(
  service: RegisteredService,
  entry: CommonEntry,
  logger: Logger,
  /** --host: where a service listens when its entry names no host. */
  defaultHost: string | undefined,
): Promise<Prepared> {
  const def = service.definition;
  const values = valuesFromEntry(def.options, entry as Record<string, unknown>);
  let addresses: Runnable["addresses"];
  const written = entry.address === undefined ? [] : [entry.address].flat().map(String);
  try {
    addresses = listenAddressesOf(def, written, values).map((address) =>
      // --host: where a bare address listens when its entry names no host.
      typeof address === "object" && address.host === undefined && defaultHost !== undefined
        ? { ...address, host: defaultHost }
        : address,
    );
  } catch (err) {
    throw new EchoplexError("ERR_CONFIG", `services.${service.name}.address: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const ctx = { logger, tls: await tlsOf(def, values) };
  const launcher = written.length === 0 ? def.emptyStart?.(values, written, ctx) : undefined;
  if (launcher !== undefined) return { launcher };
  return { runnable: { service: def.create(values, ctx), addresses } };
}

export function serveCommand(
  registry: readonly RegisteredService[] = SERVICES,
  namedOnly: readonly RegisteredService[] = NAMED_ONLY,
): Command {
  const cmd = new Command("serve")
    .description(
      `run several services in one process (${registry.map((s) => `${s.name} :${s.defaultPort}`).join(", ")}; ${namedOnly.map((s) => s.name).join(", ")} when named)`,
    )
    .option("-c, --config <file>", "JSON or YAML file choosing services, addresses and options")
    .option(
      "--only <names>",
      `comma-separated services to start (default: those in the config, else all but ${namedOnly.map((s) => s.name).join(", ")})`,
    )
    .addOption(
      new Option(
        "--host <host>",
        "interface every service listens on, unless its config entry names a host (default: all interfaces)",
      ).argParser(parseHost),
    );
  addDeclaredOptions(cmd, PROCESS_OPTIONS);
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
    const config: ServeConfig =
      flags.config === undefined ? {} : await loadConfig(flags.config, [...registry, ...namedOnly]);
    const given = valuesFromCommand(cmd, PROCESS_OPTIONS);
    const fromConfig: Record<string, unknown> = {
      logLevel: config.log?.level,
      logFormat: config.log?.format,
      admin: config.admin?.address,
      adminToken: config.admin?.token,
      workers: config.workers,
      workersBalance: config.workersBalance,
    };
    // A flag given on the command line wins over the config file, which wins over defaults.
    const value = <T>(name: string): T => {
      const spec = PROCESS_OPTIONS.find((s) => s.name === name)!;
      return (givenOnCommandLine(cmd, spec) ? given[name] : (fromConfig[name] ?? given[name])) as T;
    };
    const logger = cliLogger(value<LogLevel>("logLevel"), value<LogFormat>("logFormat"));
    const admin = value<string | undefined>("admin");
    const runnables: Runnable[] = [];
    let launcher: ProxyLauncher | undefined;
    for (const service of selectServices(registry, namedOnly, config, flags.only)) {
      const entry = (config.services?.[service.name] ?? service.schema.parse({})) as CommonEntry;
      const prepared = await prepare(service, entry, logger, flags.host);
      if ("runnable" in prepared) runnables.push(prepared.runnable);
      else if (admin === undefined) {
        throw new EchoplexError(
          "ERR_CONFIG",
          `services.${service.name}: needs "to" (the upstream) and an address, or admin: to start empty and create proxies with POST /api/proxies`,
        );
      } else launcher = prepared.launcher;
    }
    const adminToken = value<string | undefined>("adminToken");
    const workers = value<number | undefined>("workers");
    const workersBalance = value<string | undefined>("workersBalance");
    // runGroup prints the one table of services (under --workers, the primary does).
    await runGroup(runnables, logger, {
      ...(admin === undefined ? {} : { admin }),
      ...(adminToken === undefined ? {} : { adminToken }),
      ...(workers === undefined ? {} : { workers }),
      ...(workersBalance === undefined ? {} : { workersBalance }),
      table: { suggestAdmin: SUGGESTED_ADMIN },
      ...(launcher === undefined ? {} : { launcher }),
    });
  });
}
