// The options every TCP service shares: where it listens, framing, the engine's limits,
// the PROXY protocol, TLS, and the process-wide admin endpoint, workers and logging.

import { UDP_DEFAULT_IDLE_MS, WS_DEFAULT_PING_MS } from "../core/contract.js";
import { DEFAULT_LIMITS } from "../core/limits.js";
import { LOG_LEVELS } from "../core/logger.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "../core/tls.js";
import { EchoplexError } from "../errors.js";
import { parseFault } from "../faults/parse.js";
import { duration, type OptionSpec, sizeText } from "./spec.js";

const L = DEFAULT_LIMITS;

/** Where to listen (besides the `[address]` argument, config `address`). */
export const LISTEN_OPTIONS: readonly OptionSpec[] = [
  {
    name: "port",
    flag: "--port",
    short: "-p",
    kind: "port",
    placeholder: "port",
    help: "port to listen on (overrides the address's port)",
  },
  {
    name: "host",
    flag: "--host",
    kind: "string",
    placeholder: "host",
    help: "interface to listen on (default: all interfaces)",
  },
];

/** How a line service cuts its input into messages. */
export const FRAMING_OPTIONS: readonly OptionSpec[] = [
  {
    name: "framing",
    flag: "--framing",
    kind: "choice",
    placeholder: "framing",
    choices: ["lines", "length"],
    default: "lines",
    help: "message framing: LF-terminated lines or 4-byte length prefix",
  },
  {
    name: "maxLine",
    flag: "--max-line",
    kind: "size",
    placeholder: "size",
    default: 64 * 1024,
    defaultText: "64k",
    help: "longest line or frame accepted (bytes; k/m suffixes)",
  },
];

/** The engine's limits, the PROXY protocol and rate limiting. */
export const LIMIT_OPTIONS: readonly OptionSpec[] = [
  duration("idleTimeout", "--idle-timeout", L.idleTimeoutMs, "close connections idle this long (0: never)"),
  {
    name: "maxConnections",
    flag: "--max-connections",
    kind: "count",
    placeholder: "n",
    default: L.maxConnections,
    min: 1,
    help: "refuse connections beyond this many, with an error line",
  },
  {
    name: "maxConnsPerIp",
    flag: "--max-conns-per-ip",
    kind: "count",
    placeholder: "n",
    default: L.maxConnectionsPerIp,
    help: "refuse connections beyond this many per remote address (0: no limit)",
  },
  {
    name: "highWater",
    flag: "--high-water",
    kind: "size",
    placeholder: "size",
    default: L.highWaterBytes,
    defaultText: sizeText(L.highWaterBytes),
    help: "stop reading from a peer whose unsent replies pass this",
  },
  {
    name: "maxPending",
    flag: "--max-pending",
    kind: "size",
    placeholder: "size",
    default: L.maxPendingBytes,
    defaultText: sizeText(L.maxPendingBytes),
    help: "disconnect a peer whose unsent output passes this",
  },
  duration(
    "drainTimeout",
    "--drain-timeout",
    L.drainTimeoutMs,
    "on shutdown, force-close connections still open after this",
  ),
  {
    name: "proxyProtocol",
    flag: "--proxy-protocol",
    kind: "boolean",
    default: false,
    help: "expect a PROXY protocol v1/v2 header (HAProxy, load balancers) first on every connection; refuse those without",
  },
  duration(
    "proxyTimeout",
    "--proxy-timeout",
    L.proxyHeaderTimeoutMs,
    "with --proxy-protocol: refuse a connection whose header is late",
  ),
  {
    name: "rateLimit",
    flag: "--rate-limit",
    kind: "count",
    placeholder: "n",
    default: L.maxMessagesPerSecond,
    help: "messages per second one connection may send; excess is dropped with an error line (0: no limit)",
  },
  {
    name: "rateBurst",
    flag: "--rate-burst",
    kind: "count",
    placeholder: "n",
    default: L.rateBurst,
    defaultText: "one second's worth",
    help: "messages a connection may send at once above --rate-limit",
  },
  duration(
    "rateGrace",
    "--rate-grace",
    L.rateGraceMs,
    "disconnect a connection over --rate-limit continuously this long",
  ),
  duration(
    "lineTimeout",
    "--line-timeout",
    L.lineTimeoutMs,
    "close a connection whose partial line (or frame) is not completed within this (slowloris; 0: never)",
  ),
];

/** Server-side TLS; in a config entry, the `tls:` object (`tls: { cert, key }`). */
export const TLS_OPTIONS: readonly OptionSpec[] = [
  {
    name: "tlsCert",
    flag: "--tls-cert",
    kind: "string",
    placeholder: "file",
    config: "tls.cert",
    help: "serve TLS with this certificate (PEM; with --tls-key)",
  },
  {
    name: "tlsKey",
    flag: "--tls-key",
    kind: "string",
    placeholder: "file",
    config: "tls.key",
    help: "the certificate's private key (PEM)",
  },
  {
    name: "tlsSelfSigned",
    flag: "--tls-self-signed",
    kind: "boolean",
    default: false,
    config: "tls.selfSigned",
    help: "serve TLS with a certificate generated at start-up (fingerprint printed)",
  },
  {
    name: "tlsCa",
    flag: "--tls-ca",
    kind: "string",
    placeholder: "file",
    config: "tls.ca",
    help: "CA bundle (PEM) to verify client certificates against (asked for, optional)",
  },
  {
    name: "tlsRequireClientCert",
    flag: "--tls-require-client-cert",
    kind: "boolean",
    default: false,
    config: "tls.requireClientCert",
    help: "refuse clients without a certificate signed by --tls-ca (mutual TLS)",
  },
  duration(
    "tlsHandshakeTimeout",
    "--tls-handshake-timeout",
    DEFAULT_HANDSHAKE_TIMEOUT_MS,
    "drop a peer that has not finished its TLS handshake",
    { config: "tls.handshakeTimeout" },
  ),
  {
    name: "tlsCiphers",
    flag: "--tls-ciphers",
    kind: "string",
    placeholder: "list",
    config: "tls.ciphers",
    check: (list) => {
      if (list === "") throw new EchoplexError("ERR_BAD_OPTION", "--tls-ciphers needs a cipher list");
    },
    help: "OpenSSL cipher list (TLS 1.3 and 1.2 names, colon-separated) replacing the default: AEAD suites with forward secrecy only",
  },
];

/** Worker processes: one setting for the whole process (`workers:` at a config's top level). */
export const WORKERS_OPTION: OptionSpec = {
  name: "workers",
  flag: "--workers",
  kind: "workers",
  placeholder: "n",
  default: 1,
  scope: "process",
  config: "workers",
  help: "worker processes sharing the port (a number, or auto = one per core)",
};

/** How the workers of --workers share a listening port (see src/cli/worker-balance.ts). */
export const WORKERS_BALANCE_CHOICES = ["auto", "shared", "round-robin", "reuseport"] as const;

export const WORKERS_BALANCE_OPTION: OptionSpec = {
  name: "workersBalance",
  flag: "--workers-balance",
  kind: "choice",
  placeholder: "mode",
  choices: WORKERS_BALANCE_CHOICES,
  default: "auto",
  scope: "process",
  config: "workersBalance",
  help: "how workers share a port: shared (one socket, each worker accepts), round-robin (the primary accepts and hands over), reuseport (a socket per worker, the kernel spreads; Node >= 22.12, Bun), auto (per runtime)",
};

/** The observability endpoint, off by default (`admin: { address, token }` in a config). */
export const ADMIN_OPTIONS: readonly OptionSpec[] = [
  {
    name: "admin",
    flag: "--admin",
    kind: "address",
    placeholder: "addr",
    scope: "process",
    config: "admin.address",
    help: "serve /metrics, /healthz, /readyz, /api/* and a status page at ADDR (a bare port binds 127.0.0.1)",
  },
  {
    name: "adminToken",
    flag: "--admin-token",
    kind: "string",
    placeholder: "token",
    env: "ECHOPLEX_ADMIN_TOKEN",
    scope: "process",
    config: "admin.token",
    help: "require this bearer token on the admin endpoint (all but /healthz)",
  },
];

/** Logging (`log: { level, format }` in a config). */
export const LOGGING_OPTIONS: readonly OptionSpec[] = [
  {
    name: "logLevel",
    flag: "--log-level",
    kind: "choice",
    placeholder: "level",
    choices: LOG_LEVELS,
    default: "info",
    scope: "process",
    config: "log.level",
    help: "log level",
  },
  {
    name: "logFormat",
    flag: "--log-format",
    kind: "choice",
    placeholder: "format",
    choices: ["auto", "pretty", "json"],
    default: "auto",
    scope: "process",
    config: "log.format",
    help: "log format (auto: pretty on a terminal, JSON otherwise)",
  },
];

/** The file mode of `unix:` socket files (every service that takes a `unix:` address). */
export const UNIX_MODE_OPTION: OptionSpec = {
  name: "unixMode",
  flag: "--unix-mode",
  kind: "string",
  placeholder: "mode",
  help: "file mode of unix: socket files, in octal (0660); default: as the umask leaves it",
  check: (value) => {
    if (!/^0?[0-7]{3}$/.test(value)) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        `--unix-mode "${value}": expected an octal mode such as 0660`,
      );
    }
  },
};

/** The doors other than TCP: Unix sockets, UDP and WebSocket (each applies to its own addresses). */
export const TRANSPORT_OPTIONS: readonly OptionSpec[] = [
  UNIX_MODE_OPTION,
  duration("udpIdle", "--udp-idle", UDP_DEFAULT_IDLE_MS, "forget a udp:// peer silent this long"),
  {
    name: "wsMaxMessage",
    flag: "--ws-max-message",
    kind: "size",
    placeholder: "size",
    help: "largest WebSocket message (bytes; k/m suffixes); a larger one closes with 1009 (default: --max-line)",
  },
  duration(
    "wsPing",
    "--ws-ping",
    WS_DEFAULT_PING_MS,
    "ping WebSocket peers this often; drop one silent since the last ping (0: never)",
  ),
  {
    name: "wsOrigin",
    flag: "--ws-origin",
    kind: "string",
    placeholder: "origins",
    help: "comma-separated Origins a WebSocket handshake may come from (default: any)",
  },
];

/** `--fault`, repeatable; `directions`: the proxy's `up:`/`down:` prefixes are allowed. */
export function faultOption(help: string, directions = false): OptionSpec {
  return {
    name: "fault",
    flag: "--fault",
    kind: "list",
    placeholder: "fault",
    config: "faults",
    check: (text) => {
      parseFault(text, { directions });
    },
    help,
  };
}

/** Fault injection (docs/faults.md): off unless a --fault is given (or added through the admin API). */
export const FAULT_OPTIONS: readonly OptionSpec[] = [
  faultOption(
    "inject a fault into replies, repeatable: latency=200ms, jitter=50ms, bandwidth=64k, slice=1-64, stall=5s, reset|close|truncate|drop|corrupt=P",
  ),
  {
    name: "faultShare",
    flag: "--fault-share",
    kind: "number",
    placeholder: "share",
    default: 1,
    min: 0,
    max: 1,
    help: "part of the connections (0-1) given the faults, drawn at connect",
  },
];

/** What every service command takes besides its own options and limits. */
export const PROCESS_OPTIONS: readonly OptionSpec[] = [
  WORKERS_OPTION,
  WORKERS_BALANCE_OPTION,
  ...ADMIN_OPTIONS,
  ...LOGGING_OPTIONS,
];

/** Everything a line service (echo, cmd, chat, sink) takes besides its own options. */
export const LINE_SERVICE_OPTIONS: readonly OptionSpec[] = [
  ...LISTEN_OPTIONS,
  ...FRAMING_OPTIONS,
  ...LIMIT_OPTIONS,
  ...TRANSPORT_OPTIONS,
  ...TLS_OPTIONS,
  ...PROCESS_OPTIONS,
  ...FAULT_OPTIONS,
];
