// The values of the shared options (declared in src/options/shared.ts) turned into what
// the engine takes: limits, the PROXY protocol, TLS, the listen address, the logger.
import type { TlsOptions } from "node:tls";
import { type Address, parseAddress } from "../core/address.js";
import type { TransportOptions } from "../core/contract.js";
import type { Limits } from "../core/limits.js";
import { parseListenAddress } from "../core/listen-address.js";
import { createLogger, type LogFormat, type Logger, type LogLevel } from "../core/logger.js";
import {
  type ClientCertPolicy,
  describeServerTls,
  loadServerTls,
  type ServerTls,
  type ServerTlsConfig,
} from "../core/tls.js";
import { EchoplexError } from "../errors.js";
import { parseFault } from "../faults/parse.js";
import { FaultRegistry } from "../faults/registry.js";

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
  unixMode?: string;
  udpIdle: number;
  wsMaxMessage?: number;
  wsPing: number;
  wsOrigin?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  fault?: string[];
  faultShare: number;
}

export interface LoggingFlags {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** What a command prints on stdout itself (where it listens), left out of the pretty log. */
const ANNOUNCED_ON_STDOUT = ["listening", "admin listening"];

/** A command's logger: pretty on a terminal (without what stdout already says), JSON otherwise. */
export function cliLogger(level: LogLevel, format: LogFormat): Logger {
  return createLogger({ level, format, omitFromPretty: ANNOUNCED_ON_STDOUT });
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

/**
 * Where a service listens, from its address arguments and --host/--port: each bare form
 * (`8080`, `:8080`, `host:port`) becomes an Address that --host/--port adjust; a URL form
 * (`tcp://`, `tls://`, `unix:`, `udp://`, `ws://`, `wss://`) is checked and kept as written.
 */
export function resolveListenAddresses(
  addresses: readonly string[],
  flags: { port?: string; host?: string },
  defaultPort: number,
): Array<Address | string> {
  if (addresses.length === 0) return [resolveListenAddress(undefined, flags, defaultPort)];
  return addresses.map((address) => {
    if (!isUrlForm(address)) return resolveListenAddress(address, flags, defaultPort);
    parseListenAddress(address, defaultPort);
    return address;
  });
}

function isUrlForm(address: string): boolean {
  return address.startsWith("unix:") || /^[a-z]+:\/\//i.test(address);
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

/** The engine options every service takes from the shared flags: limits, the PROXY protocol, the doors' settings. */
export function engineOptionsFromFlags(flags: CommonServiceFlags): {
  limits: Partial<Limits>;
  proxyProtocol: boolean;
  faults: FaultRegistry;
} & TransportOptions {
  return {
    limits: limitsFromFlags(flags),
    proxyProtocol: flags.proxyProtocol === true,
    // Always a registry, empty without --fault: the admin API may add faults at run time.
    faults: new FaultRegistry(
      (flags.fault ?? []).map((text) => parseFault(text)),
      flags.faultShare ?? 1,
    ),
    udpIdleMs: flags.udpIdle,
    wsPingMs: flags.wsPing,
    ...(flags.unixMode === undefined ? {} : { unixMode: Number.parseInt(flags.unixMode, 8) }),
    ...(flags.wsMaxMessage === undefined ? {} : { wsMaxMessageBytes: flags.wsMaxMessage }),
    ...(flags.wsOrigin === undefined
      ? {}
      : {
          wsOrigins: flags.wsOrigin
            .split(",")
            .map((origin) => origin.trim())
            .filter((o) => o !== ""),
        }),
  };
}
