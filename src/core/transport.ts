// The transport seam: where the engine's connections come from. A Listener (a TCP,
// TLS or Unix stream listener today; a WebSocket adapter or a UDP peer table next)
// turns whatever its transport accepts into Arrivals and hands them to the Gate; the
// engine then treats every peer alike, so no service changes for a new transport.
//
// A peer's stream is a node Duplex: a node:net or node:tls socket as it is; a message
// transport adapts to it with one whole message per 'data' event and per write()
// (Arrival.messages), so the engine neither frames its input nor merges its replies.
import type { Duplex } from "node:stream";
import type { Framing } from "../codecs/types.js";
import type { EchoplexError } from "../errors.js";
import type { BoundAddress } from "./listen.js";

/** How a peer reached the server; shown in peer listings, logs and metrics. */
export type TransportKind = "tcp" | "tls" | "unix" | "ws" | "udp";

/** One peer's byte (or message) stream, as the engine drives it. */
export type PeerStream = Duplex;

/** A peer a listener accepted, ready to be admitted. */
export interface Arrival {
  stream: PeerStream;
  transport: TransportKind;
  /** The client's address: the socket's, or the one a PROXY header gave. */
  remoteAddress: string;
  remotePort: number;
  /** True when the peer speaks TLS (tls://, wss://). */
  secure: boolean;
  /** Bytes that arrived before the peer was admitted (after a PROXY header). */
  early?: Buffer;
  /**
   * For message transports: each 'data' chunk is one message and each write one
   * message, framed by this (usually `messages(max)`) instead of the service's framing.
   */
  messages?: Framing;
}

/** What the engine offers its listeners: admission with the server's limits. */
export interface Gate {
  /** False once the server drains: a listener drops whatever arrives. */
  readonly accepting: boolean;
  /**
   * Streams not admitted yet (a TLS handshake, a PROXY header, a WebSocket upgrade in
   * progress): they count against --max-connections and are dropped at shutdown.
   */
  readonly handshaking: Set<PeerStream>;
  /**
   * True when one more peer fits under --max-connections (handshakes included);
   * otherwise refuses `stream` (as refuse() does) and returns false.
   */
  roomFor(stream: PeerStream, remoteAddress: string | undefined, messages?: Framing): boolean;
  /** Applies the per-address limit, then the engine takes the peer. */
  admit(arrival: Arrival): void;
  /**
   * Refuses a stream over a limit: the service's error notice (framed by `messages` on a
   * message transport, else by the service's framing), a log line, a metric, a lingering close.
   */
  refuse(
    stream: PeerStream,
    remoteAddress: string | undefined,
    reason: string,
    err: EchoplexError,
    messages?: Framing,
  ): void;
  /** An accept error (EMFILE under a storm): logged, throttled, survived. */
  acceptFailed(err: NodeJS.ErrnoException): void;
}

/** One door of a server: binds, feeds the gate, and stops when asked. */
export interface Listener {
  readonly transport: TransportKind;
  /** Starts accepting into `gate`; resolves once bound, with where. */
  open(gate: Gate): Promise<BoundAddress>;
  /** Peers accepted or refused so far: the drain watches it to empty the accept backlog. */
  readonly acceptCount: number;
  /** Stops accepting; resolves once the listening socket is closed (peers stay). */
  close(): Promise<void>;
}
