// Flags shared by every TCP service command, and their translation into engine options.
import { type Command, Option } from "commander";
import { type Address, parseAddress } from "../core/address.js";
import { EchoplexError } from "../core/errors.js";
import { DEFAULT_LIMITS, type Limits } from "../core/limits.js";
import { LOG_LEVELS, type LogFormat, type LogLevel } from "../core/logger.js";
import { parseWorkers } from "./cluster.js";
import { parseCount, parseDuration, parseSize } from "./units.js";

export interface CommonServiceFlags {
  port?: string;
  host?: string;
  framing: "lines" | "length";
  maxLine: number;
  idleTimeout: number;
  maxConnections: number;
  maxConnsPerIp: number;
  highWater: number;
  maxPending: number;
  drainTimeout: number;
  workers: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export interface LoggingFlags {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

const seconds = (ms: number) => `${ms / 1000}s`;
const kib = (bytes: number) => (bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024}m` : `${bytes / 1024}k`);

/** Adds --log-level and --log-format. */
export function addLoggingOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS).default("info"))
    .addOption(
      new Option("--log-format <format>", "log format (auto: pretty on a terminal, JSON otherwise)")
        .choices(["auto", "pretty", "json"])
        .default("auto"),
    );
}

/** Adds the address, framing, limit and logging flags every line service takes. */
export function addServiceOptions(
  cmd: Command,
  defaultPort: number,
  /** Per-service defaults that differ from the engine's (a chat keeps less pending output per peer). */
  defaults: { maxPendingBytes?: number; idleTimeoutMs?: number } = {},
): Command {
  const maxPending = defaults.maxPendingBytes ?? DEFAULT_LIMITS.maxPendingBytes;
  const idleTimeout = defaults.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs;
  cmd
    .argument("[address]", `where to listen: PORT, :PORT, HOST:PORT, [IPv6]:PORT (default :${defaultPort})`)
    .option("-p, --port <port>", "port to listen on (overrides the address's port)")
    .option("--host <host>", "interface to listen on (default: all interfaces)")
    .addOption(
      new Option("--framing <framing>", "message framing: LF-terminated lines or 4-byte length prefix")
        .choices(["lines", "length"])
        .default("lines"),
    )
    .addOption(
      new Option("--max-line <size>", "longest line or frame accepted (bytes; k/m suffixes)")
        .argParser((v) => parseSize(v, "--max-line"))
        .default(64 * 1024, "64k"),
    )
    .addOption(
      new Option("--idle-timeout <duration>", "close connections idle this long (0: never)")
        .argParser((v) => parseDuration(v, "--idle-timeout"))
        .default(idleTimeout, seconds(idleTimeout)),
    )
    .addOption(
      new Option("--max-connections <n>", "refuse connections beyond this many, with an error line")
        .argParser((v) => parseCount(v, "--max-connections"))
        .default(DEFAULT_LIMITS.maxConnections),
    )
    .addOption(
      new Option(
        "--max-conns-per-ip <n>",
        "refuse connections beyond this many per remote address (0: no limit)",
      )
        .argParser((v) => parseCount(v, "--max-conns-per-ip"))
        .default(DEFAULT_LIMITS.maxConnectionsPerIp),
    )
    .addOption(
      new Option("--high-water <size>", "stop reading from a peer whose unsent replies pass this")
        .argParser((v) => parseSize(v, "--high-water"))
        .default(DEFAULT_LIMITS.highWaterBytes, kib(DEFAULT_LIMITS.highWaterBytes)),
    )
    .addOption(
      new Option("--max-pending <size>", "disconnect a peer whose unsent output passes this")
        .argParser((v) => parseSize(v, "--max-pending"))
        .default(maxPending, kib(maxPending)),
    )
    .addOption(
      new Option("--drain-timeout <duration>", "on shutdown, force-close connections still open after this")
        .argParser((v) => parseDuration(v, "--drain-timeout"))
        .default(DEFAULT_LIMITS.drainTimeoutMs, seconds(DEFAULT_LIMITS.drainTimeoutMs)),
    )
    .addOption(
      new Option("--workers <n>", "worker processes sharing the port (a number, or auto = one per core)")
        .argParser(parseWorkers)
        .default(1),
    );
  return addLoggingOptions(cmd);
}

/** The listen address from the positional argument and --host/--port. */
export function resolveListenAddress(
  address: string | undefined,
  flags: { port?: string; host?: string },
  defaultPort: number,
): Address {
  const base =
    address === undefined ? { host: undefined, port: defaultPort } : parseAddress(address, defaultPort);
  const port = flags.port === undefined ? base.port : parseAddress(flags.port).port;
  let host = base.host;
  if (flags.host !== undefined)
    host = parseAddress(`${flags.host.includes(":") ? `[${flags.host}]` : flags.host}:0`).host;
  if (flags.port !== undefined && !/^\d+$/.test(flags.port)) {
    throw new EchoplexError("ERR_BAD_ADDRESS", `bad --port "${flags.port}": expected a number`);
  }
  return { host, port };
}

export function limitsFromFlags(flags: CommonServiceFlags): Partial<Limits> {
  return {
    idleTimeoutMs: flags.idleTimeout,
    maxConnections: flags.maxConnections,
    maxConnectionsPerIp: flags.maxConnsPerIp,
    highWaterBytes: flags.highWater,
    maxPendingBytes: flags.maxPending,
    drainTimeoutMs: flags.drainTimeout,
  };
}
