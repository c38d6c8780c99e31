// Typed errors: every failure echoplex reports carries a stable `code` so that
// callers (and the CLI) can react to the kind of failure, not to its message.

export const ERROR_CODES = {
  ERR_BAD_ADDRESS: "the address could not be parsed",
  ERR_ADDRESS_IN_USE: "the address is already in use",
  ERR_PERMISSION_DENIED: "no permission to listen on the address",
  ERR_ADDRESS_NOT_AVAILABLE: "the address is not available on this machine",
  ERR_LINE_TOO_LONG: "a line exceeded the maximum line length",
  ERR_FRAME_TOO_LARGE: "a frame's length prefix exceeded the maximum frame size",
  ERR_TOO_MANY_CONNECTIONS: "the server is at its connection limit",
  ERR_TOO_MANY_CONNECTIONS_PER_IP: "the peer's address is at its connection limit",
  ERR_IDLE_TIMEOUT: "the peer was idle for longer than the idle timeout",
  ERR_SLOW_CONSUMER: "the peer did not read its output and its pending output passed the limit",
  ERR_RATE_LIMITED: "the peer sent messages faster than the rate limit",
  ERR_LINE_TIMEOUT: "the peer left a line (or frame) incomplete for longer than the line timeout",
  ERR_BAD_OPTION: "a command-line option or configuration value is invalid",
  ERR_USAGE:
    "the command line has the wrong shape: an unknown command or option, a missing or extra argument",
  ERR_SERVER_CLOSED: "the server is shutting down",
  ERR_DRAIN_TIMEOUT:
    "the shutdown's drain timeout ran out before a peer's replies were sent; they were dropped",
  ERR_CONNECT_FAILED: "a connection to the server could not be made",
  ERR_CONNECTION_REFUSED: "the server refused the connection (nothing listens on the port)",
  ERR_HOST_UNREACHABLE: "the server's host could not be resolved or reached",
  ERR_CONNECTION_RESET: "the server reset the connection",
  ERR_TLS: "the TLS handshake failed (certificate not trusted, name mismatch, protocol error)",
  ERR_POOL_CLOSED: "the connection pool is closed",
  ERR_CONNECTION_CLOSED: "the connection closed before the operation finished",
  ERR_TIMEOUT: "an operation did not finish in time",
  ERR_HANDLER: "a service handler failed while processing a message",
  ERR_TLS_CONFIG: "a TLS certificate, key or CA could not be loaded or does not match",
  ERR_CONFIG: "a configuration file could not be read, parsed or validated",
  ERR_OUTPUT_FILE: "an output file could not be opened or written",
  ERR_BAD_REPLY: "a server's reply did not have the form the protocol expects",
  ERR_BENCH_FAILED: "a benchmark run saw mismatched or lost replies or errors",
  ERR_PROXY_PROTOCOL: "a PROXY protocol header was required and was missing, malformed or late",
  ERR_TLS_RENEGOTIATION: "the peer tried to renegotiate TLS, which every server refuses (then closes)",
  ERR_UDP_ANSWER_TOO_LARGE:
    "a UDP answer would have been larger than the peer's datagrams allow (the amplification guard); it was dropped",
  ERR_UDP_BACKLOG: "a UDP peer sent datagrams faster than the service handled them; the excess was dropped",
  ERR_SYSLOG_FRAME: "a syslog peer's octet-counted frame did not start with a length and a space",
  ERR_REDIS_OUTBOX_FULL:
    "a chat server's outbox of events accepted while Redis was unreachable was full; the event reached only that server",
  ERR_BAD_THRESHOLD: "a bench --threshold could not be parsed (or names a figure the run does not have)",
  ERR_THRESHOLD_FAILED: "a bench run finished but one of its --threshold rules did not hold",
  ERR_BAD_PASSWORD:
    "a chat user on the IRC door gave no or the wrong password (PASS); answered 464, then closed",
  ERR_PING_TIMEOUT:
    "an IRC client did not answer the server's PING within --irc-ping-timeout; it was disconnected",
  ERR_FAULT_SYNTAX:
    "a --fault (or an /api/faults request) is not kind=value with a known kind and a valid value",
  ERR_REUSEPORT_UNSUPPORTED:
    "--workers-balance reuseport on a runtime or platform that cannot listen with SO_REUSEPORT (Node < 22.12, not Linux/FreeBSD)",
  ERR_WORKER_RELAY:
    "under --workers, an admin change did not reach every worker (no answer in time, or a worker refused it)",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const kBrand = Symbol.for("echoplex.error");

export class EchoplexError extends Error {
  readonly code: ErrorCode;
  readonly [kBrand] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EchoplexError";
    this.code = code;
  }

  /** True for echoplex errors even when two copies of the package are installed. */
  static is(value: unknown): value is EchoplexError {
    return typeof value === "object" && value !== null && (value as { [kBrand]?: boolean })[kBrand] === true;
  }
}

/** Maps the errno of a failed listen() to an echoplex error that names the address. */
export function listenError(err: NodeJS.ErrnoException, where: string): EchoplexError {
  switch (err.code) {
    case "EADDRINUSE":
      return new EchoplexError("ERR_ADDRESS_IN_USE", `address ${where} is already in use`, { cause: err });
    case "EACCES":
    case "EPERM":
      return new EchoplexError("ERR_PERMISSION_DENIED", `permission denied to listen on ${where}`, {
        cause: err,
      });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new EchoplexError("ERR_ADDRESS_NOT_AVAILABLE", `address ${where} is not available`, {
        cause: err,
      });
    default:
      return new EchoplexError("ERR_BAD_ADDRESS", `cannot listen on ${where}: ${err.message}`, {
        cause: err,
      });
  }
}
