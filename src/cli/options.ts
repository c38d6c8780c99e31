// Flags shared by every TCP service command, and their translation into engine options.
import type { TlsOptions } from "node:tls";
import { type Command, Option } from "commander";
import { type Address, parseAddress } from "../core/address.js";
import { DEFAULT_LIMITS, type Limits } from "../core/limits.js";
import { createLogger, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from "../core/logger.js";
import {
  type ClientCertPolicy,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  describeServerTls,
  loadServerTls,
  type ServerTls,
  type ServerTlsConfig,
} from "../core/tls.js";
import { EchoplexError } from "../errors.js";
import { parseWorkers } from "./supervisor.js";
import { parseCount, parseDuration, parseSize } from "./units.js";

/** --admin and --admin-token, taken by every service command (runServers reads them). */
export interface AdminFlags {
  admin?: string;
  adminToken?: string;
}

export interface ListenFlags {
  port?: string;
  host?: string;
}

export interface TlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  tlsCa?: string;
  tlsRequireClientCert?: boolean;
  tlsHandshakeTimeout: number;
  tlsCiphers?: string;
}

export interface CommonServiceFlags extends ListenFlags, TlsFlags, AdminFlags {
  framing: "lines" | "length";
  maxLine: number;
  idleTimeout: number;
  maxConnections: number;
  maxConnsPerIp: number;
  highWater: number;
  maxPending: number;
  drainTimeout: number;
  workers: number;
  proxyProtocol?: boolean;
  proxyTimeout: number;
  rateLimit: number;
  rateBurst: number;
  rateGrace: number;
  lineTimeout: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export interface LoggingFlags {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

const seconds = (ms: number) => `${ms / 1000}s`;
const kib = (bytes: number) => (bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024}m` : `${bytes / 1024}k`);

/** What a command prints on stdout itself (where it listens), left out of the pretty log. */
const ANNOUNCED_ON_STDOUT = ["listening", "admin listening"];

/** A command's logger: pretty on a terminal (without what stdout already says), JSON otherwise. */
export function cliLogger(level: LogLevel, format: LogFormat): Logger {
  return createLogger({ level, format, omitFromPretty: ANNOUNCED_ON_STDOUT });
}

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

/** Adds --admin and --admin-token (the observability endpoint, off by default). */
export function addAdminOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--admin <addr>",
        "serve /metrics, /healthz, /readyz, /api/* and a status page at ADDR (a bare port binds 127.0.0.1)",
      ).argParser((v) => {
        parseAddress(v); // a bad address fails before any service starts
        return v;
      }),
    )
    .addOption(
      new Option(
        "--admin-token <token>",
        "require this bearer token on the admin endpoint (all but /healthz)",
      ).env("ECHOPLEX_ADMIN_TOKEN"),
    );
}

/** Adds --workers (runServers reads it). */
export function addWorkersOption(cmd: Command): Command {
  return cmd.addOption(
    new Option("--workers <n>", "worker processes sharing the port (a number, or auto = one per core)")
      .argParser(parseWorkers)
      .default(1),
  );
}

/** Adds the [address] argument and --port/--host. */
export function addListenOptions(cmd: Command, defaultPort: number): Command {
  return cmd
    .argument("[address]", `where to listen: PORT, :PORT, HOST:PORT, [IPv6]:PORT (default :${defaultPort})`)
    .option("-p, --port <port>", "port to listen on (overrides the address's port)")
    .option("--host <host>", "interface to listen on (default: all interfaces)");
}

/** Adds the server-side TLS flags (see tlsFromFlags). */
export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option("--tls-cert <file>", "serve TLS with this certificate (PEM; with --tls-key)")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--tls-self-signed", "serve TLS with a certificate generated at start-up (fingerprint printed)")
    .option("--tls-ca <file>", "CA bundle (PEM) to verify client certificates against (asked for, optional)")
    .option(
      "--tls-require-client-cert",
      "refuse clients without a certificate signed by --tls-ca (mutual TLS)",
    )
    .addOption(
      new Option("--tls-handshake-timeout <duration>", "drop a peer that has not finished its TLS handshake")
        .argParser((v) => parseDuration(v, "--tls-handshake-timeout"))
        .default(DEFAULT_HANDSHAKE_TIMEOUT_MS, seconds(DEFAULT_HANDSHAKE_TIMEOUT_MS)),
    )
    .option(
      "--tls-ciphers <list>",
      "OpenSSL cipher list (TLS 1.3 and 1.2 names, colon-separated) replacing the default: AEAD suites with forward secrecy only",
    );
}

/** The TLS configuration the flags ask for, or undefined for plain TCP. */
function tlsConfigFromFlags(flags: TlsFlags): ServerTlsConfig | undefined {
  const { tlsCert, tlsKey, tlsSelfSigned, tlsCa, tlsRequireClientCert, tlsCiphers } = flags;
  const fromFiles = tlsCert !== undefined || tlsKey !== undefined;
  if (!fromFiles && !tlsSelfSigned) {
    if (tlsCa !== undefined || tlsRequireClientCert || tlsCiphers !== undefined) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        "--tls-ca, --tls-require-client-cert and --tls-ciphers need a server certificate: --tls-cert/--tls-key or --tls-self-signed",
      );
    }
    return undefined;
  }
  if (fromFiles && tlsSelfSigned) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      "use either --tls-cert/--tls-key or --tls-self-signed, not both",
    );
  }
  if (fromFiles && (tlsCert === undefined || tlsKey === undefined)) {
    throw new EchoplexError("ERR_BAD_OPTION", "--tls-cert and --tls-key go together");
  }
  if (tlsRequireClientCert && tlsCa === undefined) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      "--tls-require-client-cert needs --tls-ca FILE to check certificates",
    );
  }
  const clientCerts: ClientCertPolicy =
    tlsCa === undefined ? "none" : tlsRequireClientCert ? "required" : "optional";
  return {
    certificate:
      tlsCert !== undefined && tlsKey !== undefined
        ? { kind: "files", certFile: tlsCert, keyFile: tlsKey }
        : { kind: "self-signed" },
    ...(tlsCa === undefined ? {} : { caFile: tlsCa }),
    clientCerts,
    handshakeTimeoutMs: flags.tlsHandshakeTimeout,
    ...(tlsCiphers === undefined ? {} : { ciphers: tlsCiphers }),
  };
}

/** Loads a TLS configuration and prints what the certificate is (`echoplex NAME TLS …`) on stdout. */
export async function loadAndAnnounceTls(config: ServerTlsConfig, service: string): Promise<ServerTls> {
  const tls = await loadServerTls(config);
  process.stdout.write(`echoplex ${service} ${describeServerTls(tls)}\n`);
  return tls;
}

/**
 * The engine's `tls` option from the TLS flags (undefined: plain TCP). Generates the
 * certificate for --tls-self-signed and prints its fingerprint. Wiring a service:
 * `tls: await tlsFromFlags(flags, "chat")` in its server options.
 */
export async function tlsFromFlags(flags: TlsFlags, service: string): Promise<TlsOptions | undefined> {
  const config = tlsConfigFromFlags(flags);
  return config === undefined ? undefined : (await loadAndAnnounceTls(config, service)).options;
}

/** Adds the address, framing, limit, TLS, admin, worker and logging flags every line service takes. */
export function addServiceOptions(
  cmd: Command,
  defaultPort: number,
  /** Per-service defaults that differ from the engine's (a chat keeps less pending output per peer). */
  defaults: { maxPendingBytes?: number; idleTimeoutMs?: number } = {},
): Command {
  const maxPending = defaults.maxPendingBytes ?? DEFAULT_LIMITS.maxPendingBytes;
  const idleTimeout = defaults.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs;
  addListenOptions(cmd, defaultPort)
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
    .option(
      "--proxy-protocol",
      "expect a PROXY protocol v1/v2 header (HAProxy, load balancers) first on every connection; refuse those without",
    )
    .addOption(
      new Option(
        "--proxy-timeout <duration>",
        "with --proxy-protocol: refuse a connection whose header is late",
      )
        .argParser((v) => parseDuration(v, "--proxy-timeout"))
        .default(DEFAULT_LIMITS.proxyHeaderTimeoutMs, seconds(DEFAULT_LIMITS.proxyHeaderTimeoutMs)),
    )
    .addOption(
      new Option(
        "--rate-limit <n>",
        "messages per second one connection may send; excess is dropped with an error line (0: no limit)",
      )
        .argParser((v) => parseCount(v, "--rate-limit"))
        .default(DEFAULT_LIMITS.maxMessagesPerSecond),
    )
    .addOption(
      new Option("--rate-burst <n>", "messages a connection may send at once above --rate-limit")
        .argParser((v) => parseCount(v, "--rate-burst"))
        .default(DEFAULT_LIMITS.rateBurst, "one second's worth"),
    )
    .addOption(
      new Option(
        "--rate-grace <duration>",
        "disconnect a connection over --rate-limit continuously this long",
      )
        .argParser((v) => parseDuration(v, "--rate-grace"))
        .default(DEFAULT_LIMITS.rateGraceMs, seconds(DEFAULT_LIMITS.rateGraceMs)),
    )
    .addOption(
      new Option(
        "--line-timeout <duration>",
        "close a connection whose partial line (or frame) is not completed within this (slowloris; 0: never)",
      )
        .argParser((v) => parseDuration(v, "--line-timeout"))
        .default(DEFAULT_LIMITS.lineTimeoutMs, seconds(DEFAULT_LIMITS.lineTimeoutMs)),
    );
  addWorkersOption(cmd);
  addTlsOptions(cmd);
  addAdminOptions(cmd);
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

function limitsFromFlags(flags: CommonServiceFlags): Partial<Limits> {
  return {
    idleTimeoutMs: flags.idleTimeout,
    maxConnections: flags.maxConnections,
    maxConnectionsPerIp: flags.maxConnsPerIp,
    highWaterBytes: flags.highWater,
    maxPendingBytes: flags.maxPending,
    drainTimeoutMs: flags.drainTimeout,
    proxyHeaderTimeoutMs: flags.proxyTimeout,
    maxMessagesPerSecond: flags.rateLimit,
    rateBurst: flags.rateBurst,
    rateGraceMs: flags.rateGrace,
    lineTimeoutMs: flags.lineTimeout,
  };
}

/** The engine options every service takes from the shared flags: limits and the PROXY protocol. */
export function engineOptionsFromFlags(flags: CommonServiceFlags): {
  limits: Partial<Limits>;
  proxyProtocol: boolean;
} {
  return { limits: limitsFromFlags(flags), proxyProtocol: flags.proxyProtocol === true };
}
