// The HTTP responder's options: their defaults, their checks, and what they make of the
// answer's headers and of node:http's own server options.
import type { TlsOptions } from "node:tls";
import type { Logger } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";
import type { FaultRegistry } from "../../faults/registry.js";
import { formatMs } from "./plan.js";

export const HTTP_DEFAULT_PORT = 1729;

export interface HttpResponderOptions {
  /** Wait this long before answering. Default 4 s. */
  delayMs?: number;
  /** Default 200. */
  status?: number;
  /** Default `Hello World!`. */
  body?: string;
  /** Extra response headers, in order; a name given twice is sent twice. */
  headers?: Array<[string, string]>;
  /** Longest delay a request may ask for (`/delay/N`, `?delay=`). Default 60 s. */
  maxDelayMs?: number;
  /** A client must send its whole header block within this. Default 10 s. */
  headersTimeoutMs?: number;
  /** A client must send its whole request (headers and body) within this. Default 30 s. */
  requestTimeoutMs?: number;
  /** Close a keep-alive connection idle this long between requests. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Largest request body accepted; larger gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Connections beyond this get a 503 and are closed. Default 10,000. */
  maxConnections?: number;
  /**
   * Requests received on one connection and not answered yet (pipelined, or waiting for
   * their delay) above which the server stops reading from it until answers leave. Default 32.
   */
  maxPipeline?: number;
  /** Largest body a route generates (/bytes/N, /drip, /range/N…) and largest /ws message. Default 1 MiB. */
  maxBytes?: number;
  /** /redirect-to may send clients to any host (default: this host only). */
  allowOpenRedirect?: boolean;
  /** After the last answer on a connection, read and discard the peer's input this long at most. Default 2 s. */
  lingerMs?: number;
  /** ... and this many bytes at most (then stop reading until `lingerMs`). Default 1 MiB. */
  lingerBytes?: number;
  /** On shutdown, force-close whatever is still open after this. Default: max delay + 5 s. */
  drainTimeoutMs?: number;
  /** File mode of a `unix:` socket (e.g. 0o660). Default: as the umask leaves it. */
  unixMode?: number;
  /** Faults injected into answers (--fault), changeable at run time; see docs/faults.md. */
  faults?: FaultRegistry | undefined;
  logger?: Logger;
  /** Serve HTTPS with these options. */
  tls?: TlsOptions;
}

export type HttpSettings = Required<Omit<HttpResponderOptions, "logger" | "tls" | "unixMode" | "faults">>;

export const HTTP_DEFAULTS: Readonly<Omit<HttpSettings, "drainTimeoutMs">> = Object.freeze({
  delayMs: 4000,
  status: 200,
  body: "Hello World!",
  headers: [],
  maxDelayMs: 60_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxBodyBytes: 1024 * 1024,
  maxConnections: 10_000,
  maxPipeline: 32,
  lingerMs: 2000,
  lingerBytes: 1024 * 1024,
  maxBytes: 1024 * 1024,
  allowOpenRedirect: false,
});

/** The options over the defaults, checked; throws ERR_BAD_OPTION on a value it cannot serve. */
export function resolveHttpSettings(options: HttpResponderOptions): HttpSettings {
  const { logger: _logger, tls: _tls, unixMode: _unixMode, ...given } = options;
  const maxDelayMs = options.maxDelayMs ?? HTTP_DEFAULTS.maxDelayMs;
  const s = {
    ...HTTP_DEFAULTS,
    ...definedOnly(given),
    drainTimeoutMs: options.drainTimeoutMs ?? maxDelayMs + 5_000,
  } as HttpSettings;
  if (s.delayMs > s.maxDelayMs) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `delay ${formatMs(s.delayMs)} exceeds the maximum delay ${formatMs(s.maxDelayMs)} (raise --max-delay)`,
    );
  }
  if (!Number.isInteger(s.status) || s.status < 200 || s.status > 599) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad status ${s.status}: use a code from 200 to 599`);
  }
  if (!Number.isInteger(s.maxPipeline) || s.maxPipeline < 1) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --max-pipeline ${s.maxPipeline}: use 1 or more`);
  }
  return s;
}

export type HeaderBlock = Record<string, string | string[] | number>;

/** The configured answer's headers: `--header` values over a plain-text content type. */
export function answerHeaders(settings: HttpSettings): HeaderBlock {
  const headers: HeaderBlock = { "content-type": "text/plain; charset=utf-8" };
  for (const [name, value] of settings.headers) {
    const key = name.toLowerCase();
    const prev = headers[key];
    headers[key] =
      prev === undefined || key === "content-type"
        ? value
        : Array.isArray(prev)
          ? [...prev, value]
          : [String(prev), value];
  }
  return headers;
}

/** node:http's server options for these settings. */
export function nodeServerOptions(s: HttpSettings) {
  return {
    keepAliveTimeout: s.keepAliveTimeoutMs,
    // Node insists on headers within the request timeout.
    headersTimeout:
      s.requestTimeoutMs > 0 ? Math.min(s.headersTimeoutMs, s.requestTimeoutMs) : s.headersTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    // Node checks header/request timeouts on its own timer at this interval (30 s by
    // default: too coarse). Its check is internal to node:http, so it cannot run on the
    // shared ticker.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(s.headersTimeoutMs / 4))),
    // Test clients (and HTTP/1.0 tools) often omit Host; a test responder should not care.
    requireHostHeader: false,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
