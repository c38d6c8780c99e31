// One peer's connection: what a service sees of it, and (symbol-keyed) the engine's
// fields: its codec, its outbox and its read state.
// Replies are queued and written in one batch per read (or once per tick for
// messages produced elsewhere, such as chat fan-out) instead of one write each.
import type { Codec } from "../codecs/types.js";
import type { FaultStage } from "../faults/apply.js";
import { coarseClock } from "./clock.js";
import type { RateLimiter } from "./rate-limit.js";
import {
  kBytesIn,
  kBytesOut,
  kCloseAfterReplies,
  kCloseReason,
  kCodec,
  kEngine,
  kFaults,
  kFlushQueued,
  kInflight,
  kInputHolds,
  kLastActivity,
  kMessagesIn,
  kMessagesOut,
  kOut,
  kOutBytes,
  kPartialSince,
  kPaused,
  kPeerEnded,
  kRateLimiter,
  kSampleStart,
  kSocket,
  kStatus,
  kWholeMessages,
} from "./slots.js";
import type { PeerStream, TransportKind } from "./transport.js";

/**
 * Replies queued for the end-of-turn flush (a chat fan-out, asynchronous replies) leave
 * as soon as this many bytes wait: one sender's burst then never holds a whole turn's
 * copy of everything for every recipient at once (measured: RSS after a 1,000,000-delivery
 * chat burst, benchmarks/results/2026-12-04-light-connections.md). The connection being
 * read still gets one write per read.
 */
const QUEUED_FLUSH_BYTES = 16 * 1024;

/** The life of a connection: open → closing (our FIN sent or pending) → closed. */
export type ConnectionStatus = "open" | "closing" | "closed";

/** Why a connection ended; shown in logs and to observers. */
export type CloseReason =
  | "peer closed"
  | "peer reset"
  | "idle timeout"
  | "line too long"
  | "frame too large"
  | "protocol error"
  | "slow consumer"
  | "rate limited"
  | "line timeout"
  | "server shutdown"
  | "drain timeout"
  | "closed by service"
  | "tls renegotiation"
  | "socket error";

/** What a connection needs from the engine that owns it (implemented by the Outbox). */
export interface EngineLink {
  scheduleFlush(conn: Connection): void;
  flush(conn: Connection): void;
  close(conn: Connection, reason: CloseReason, notice?: string | Buffer): void;
}

/** A read-only snapshot of a connection, as peers are listed by /api/peers. */
export interface PeerInfo {
  id: number;
  service: string;
  remoteAddress: string;
  remotePort: number;
  tls: boolean;
  /** How the peer reached the server. */
  transport: TransportKind;
  connectedAt: string;
  idleMs: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  status: ConnectionStatus;
  /** Service-specific fields (chat nick and room, for instance). */
  details?: Record<string, string | number>;
}

/**
 * One peer, as a service sees it: its identity and counters, `state`, and what it may
 * do (send, flush, close, hold its input). The engine's own fields are symbol-keyed
 * (slots.ts): out of a service's reach, plain properties for the hot path.
 */
export class Connection<S = unknown> {
  readonly connectedAt = Date.now();
  /** Per-connection state owned by the service. */
  state: S;

  [kStatus]: ConnectionStatus = "open";
  [kLastActivity] = Date.now();
  [kBytesIn] = 0;
  [kBytesOut] = 0;
  [kMessagesIn] = 0;
  [kMessagesOut] = 0;
  [kInflight] = 0;
  [kPaused] = false;
  [kInputHolds] = 0;
  [kPeerEnded] = false;
  [kCloseReason]: CloseReason | undefined = undefined;
  [kCloseAfterReplies]: { reason: CloseReason; notice: string | Buffer | undefined } | undefined = undefined;
  [kOut]: Buffer[] = [];
  [kOutBytes] = 0;
  [kFlushQueued] = false;
  [kSampleStart] = 0;
  [kCodec]!: Codec;
  [kRateLimiter]: RateLimiter | undefined = undefined;
  [kPartialSince] = 0;
  [kWholeMessages] = false;
  [kFaults]: FaultStage | undefined = undefined;
  readonly [kSocket]: PeerStream;
  readonly [kEngine]: EngineLink;

  constructor(
    readonly id: number,
    socket: PeerStream,
    readonly service: string,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly tls: boolean,
    /** How the peer reached the server (tcp, tls, unix, ws, udp). */
    readonly transport: TransportKind,
    engine: EngineLink,
    state: S,
  ) {
    this[kSocket] = socket;
    this[kEngine] = engine;
    this.state = state;
  }

  /** open → closing (our FIN sent or pending) → closed. */
  get status(): ConnectionStatus {
    return this[kStatus];
  }

  /** When the peer last sent or was sent something (coarse clock, ms since the epoch). */
  get lastActivity(): number {
    return this[kLastActivity];
  }

  get bytesIn(): number {
    return this[kBytesIn];
  }

  get bytesOut(): number {
    return this[kBytesOut];
  }

  get messagesIn(): number {
    return this[kMessagesIn];
  }

  /** Messages queued to the peer (sent or about to be). */
  get messagesOut(): number {
    return this[kMessagesOut];
  }

  /** Queues `prefix + payload`, framed by the connection's codec. */
  send(payload: Buffer | string, prefix?: Buffer): void {
    if (this[kStatus] === "closed") return;
    const body = typeof payload === "string" ? Buffer.from(payload) : payload;
    this[kOutBytes] += this[kCodec].encode(this[kOut], body, prefix);
    this[kMessagesOut]++;
    if (!this[kFlushQueued]) this[kEngine].scheduleFlush(this);
    else if (this[kOutBytes] >= QUEUED_FLUSH_BYTES) this[kEngine].flush(this);
  }

  /** Writes what is queued now rather than at the end of the tick. */
  flush(): void {
    this[kEngine].flush(this);
  }

  /** Sends an optional last message, then closes gracefully (replies already queued go first). */
  close(reason: CloseReason = "closed by service", notice?: string | Buffer): void {
    this[kEngine].close(this, reason, notice);
  }

  /**
   * Stops reading from the peer until releaseInput() is called as often: for services
   * whose own consumer (a file, say) is slower than the network.
   */
  holdInput(): void {
    if (this[kInputHolds]++ === 0 && this[kStatus] === "open") this[kSocket].pause();
  }

  /** Undoes one holdInput(); reading resumes when no hold is left and the engine has not paused it. */
  releaseInput(): void {
    if (this[kInputHolds] === 0) return;
    this[kInputHolds]--;
    if (this[kInputHolds] === 0 && !this[kPaused] && this[kStatus] === "open") this[kSocket].resume();
  }

  /** Bytes waiting to reach the peer: queued here, held by a fault (--fault), buffered in the socket. */
  get pendingBytes(): number {
    return this[kOutBytes] + this[kSocket].writableLength + (this[kFaults]?.pendingBytes ?? 0);
  }

  /** True when the connection was drawn for the service's faults (--fault, --fault-share). */
  get faulted(): boolean {
    return this[kFaults] !== undefined;
  }

  info(details?: Record<string, string | number>): PeerInfo {
    const info: PeerInfo = {
      id: this.id,
      service: this.service,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      tls: this.tls,
      transport: this.transport,
      connectedAt: new Date(this.connectedAt).toISOString(),
      // The coarse clock can run up to a sweep interval behind: never report more idle time than age.
      idleMs: Math.max(0, Math.min(Date.now() - this.connectedAt, coarseClock.now - this[kLastActivity])),
      bytesIn: this[kBytesIn],
      bytesOut: this[kBytesOut],
      messagesIn: this[kMessagesIn],
      messagesOut: this[kMessagesOut],
      status: this[kStatus],
    };
    if (details !== undefined) info.details = details;
    return info;
  }
}
