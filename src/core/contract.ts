// The service contract: what a service gives the engine (a Handler and options) and
// what it gets back (ListenInfo). Kept apart from the engine so that a service, the
// CLI and observability depend on this file rather than on the engine's insides.
import type { TlsOptions } from "node:tls";
import type { Framing } from "../codecs/types.js";
import type { EchoplexError } from "../errors.js";
import type { FaultRegistry } from "../faults/registry.js";
import type { CloseReason, Connection } from "./connection.js";
import type { Limits } from "./limits.js";
import type { Logger } from "./logger.js";
import type { ServiceMetric } from "./stats.js";
import type { TransportKind } from "./transport.js";

/** What a service does with its connections. One handler object serves every connection. */
export interface Handler<S = undefined> {
  /** Creates the per-connection state (`conn.state`). */
  createState(): S;
  /** A peer connected (send a welcome here). */
  onConnect?(conn: Connection<S>): void;
  /**
   * One decoded message. Return a promise to delay the close of this connection until it
   * settles (also a protocol error's: its notice then follows the replies this promise sends).
   */
  onMessage(conn: Connection<S>, payload: Buffer): void | Promise<void>;
  /** A message the engine dropped unread (over the rate limit), for services that number messages. */
  onDropped?(conn: Connection<S>): void;
  /** The peer half-closed; every message it sent has been delivered. Default: close once replies flush. */
  onEnd?(conn: Connection<S>): void;
  /** The connection is gone. */
  onClose?(conn: Connection<S>, reason: CloseReason): void;
  /** The message sent to the peer before a protocol error closes it. Default: `ERROR: <message>`. */
  errorNotice?(err: EchoplexError): string | Buffer | undefined;
  /** The message sent to each peer when the server shuts down. Default: none. */
  shutdownNotice?(conn: Connection<S>): string | Buffer | undefined;
  /** Service fields shown in peer listings (a chat nick, say). */
  describe?(conn: Connection<S>): Record<string, string | number>;
  /** The service's own metrics (chat rooms, records written), read when scraped. */
  metrics?: readonly ServiceMetric[];
}

/** Receives sampled request-to-reply latencies, in milliseconds. */
export type LatencyRecorder = (ms: number) => void;

/** How long a silent UDP peer is remembered, by default. */
export const UDP_DEFAULT_IDLE_MS = 60_000;
/** How often WebSocket peers are pinged, by default. */
export const WS_DEFAULT_PING_MS = 30_000;

/** Settings of the doors other than TCP (each applies to the addresses of its kind). */
export interface TransportOptions {
  /** File mode of Unix socket doors (`unix:/path`), e.g. 0o660. Default: as the umask leaves it. */
  unixMode?: number | undefined;
  /** A UDP peer (`udp://` doors) silent this long is forgotten. Default 60 s. */
  udpIdleMs?: number | undefined;
  /** Largest WebSocket message (`ws://` doors). Default: the framing's limit (--max-line). */
  wsMaxMessageBytes?: number | undefined;
  /** Ping WebSocket peers this often; one silent since the last ping is dropped. Default 30 s; 0: never. */
  wsPingMs?: number | undefined;
  /** Origins a WebSocket handshake may come from (browsers send one). Default: any. */
  wsOrigins?: readonly string[] | undefined;
  /** What a plain HTTP GET of a `ws://` door's path gets (the chat's web page). Default: a 426 text page. */
  wsPage?: WsPage | undefined;
}

/** A page a WebSocket door serves to plain HTTP GETs of its path (browsers opening the URL). */
export interface WsPage {
  contentType: string;
  body: string;
  /** More response headers, e.g. a Content-Security-Policy. */
  headers?: Readonly<Record<string, string>>;
}

export interface ServerOptions<S> extends TransportOptions {
  /** A name for logs and metrics. Default "custom". */
  service?: string;
  /** One line on this server's settings for `describe()` (the start-up line). Default: the framing's name. */
  summary?: string;
  /** How bytes become messages. Default: lines of up to 64 KiB. */
  framing?: Framing;
  handler: Handler<S>;
  limits?: Partial<Limits>;
  logger?: Logger;
  /** Serve TLS with these options (key and cert at least). */
  tls?: TlsOptions;
  /**
   * Expect a PROXY protocol (v1 or v2) header first on every connection, as sent by
   * HAProxy or a load balancer; the address in it is the peer's for the registry,
   * logs and per-IP limits. Connections without a valid header are refused.
   */
  proxyProtocol?: boolean;
  /** Faults injected into replies (--fault), changeable at run time; see docs/faults.md. */
  faults?: FaultRegistry | undefined;
}

export interface ListenInfo {
  host: string;
  port: number;
  family: string;
  /** `host:port` as people write it (`*:8080` for all interfaces). */
  display: string;
  /** True when peers must speak TLS. */
  tls: boolean;
  /** The door's transport (tcp, tls, unix, ws, udp). */
  transport: TransportKind;
}
