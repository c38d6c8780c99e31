// One peer's connection: its counters (peer tracking), its codec and its outbox.
// Replies are queued and written in one batch per read (or once per tick for
// messages produced elsewhere, such as chat fan-out) instead of one write each.
import type { Socket } from "node:net";
import type { Codec } from "../codecs/types.js";
import { coarseClock } from "./clock.js";
import type { RateLimiter } from "./rate-limit.js";

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

/** What the engine needs from a connection's owner to flush and close it. */
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

export class Connection<S = unknown> {
  status: ConnectionStatus = "open";
  readonly connectedAt = Date.now();
  lastActivity = Date.now();
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  /** Requests whose (asynchronous) reply has not been queued yet. */
  inflight = 0;
  /** True while reading is paused because the peer is not reading its replies. */
  paused = false;
  /** Reads held by the service (holdInput), independent of the engine's own backpressure pause. */
  inputHolds = 0;
  /** True once the peer half-closed (FIN received). */
  peerEnded = false;
  closeReason: CloseReason | undefined;
  /**
   * A close decided while earlier messages' replies were still being produced (a protocol
   * error behind a pending disk write): it happens, notice last, once they are queued.
   */
  closeAfterReplies: { reason: CloseReason; notice: string | Buffer | undefined } | undefined = undefined;
  /** Per-connection state owned by the service. */
  state: S;
  /** Outbox: views of the bytes to write at the next flush. */
  out: Buffer[] = [];
  outBytes = 0;
  /** Queued for the once-per-tick flush. */
  flushQueued = false;
  /** When a read sampled for the latency histogram arrived (performance.now()); 0: none pending. */
  sampleStart = 0;
  codec!: Codec;
  /** The message rate limit (undefined: none). */
  rateLimiter: RateLimiter | undefined;
  /** When the partial line now buffered began (coarse clock; 0: none buffered). */
  partialSince = 0;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    readonly service: string,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly tls: boolean,
    /** @internal The engine that owns this connection. */
    readonly host: EngineLink,
    state: S,
  ) {
    this.state = state;
  }

  /** Queues `prefix + payload`, framed by the connection's codec. */
  send(payload: Buffer | string, prefix?: Buffer): void {
    if (this.status === "closed") return;
    const body = typeof payload === "string" ? Buffer.from(payload) : payload;
    this.outBytes += this.codec.encode(this.out, body, prefix);
    this.messagesOut++;
    if (!this.flushQueued) this.host.scheduleFlush(this);
  }

  /** Writes what is queued now rather than at the end of the tick. */
  flush(): void {
    this.host.flush(this);
  }

  /** Sends an optional last message, then closes gracefully (replies already queued go first). */
  close(reason: CloseReason = "closed by service", notice?: string | Buffer): void {
    this.host.close(this, reason, notice);
  }

  /**
   * Stops reading from the peer until releaseInput() is called as often: for services
   * whose own consumer (a file, say) is slower than the network.
   */
  holdInput(): void {
    if (this.inputHolds++ === 0 && this.status === "open") this.socket.pause();
  }

  /** Undoes one holdInput(); reading resumes when no hold is left and the engine has not paused it. */
  releaseInput(): void {
    if (this.inputHolds === 0) return;
    this.inputHolds--;
    if (this.inputHolds === 0 && !this.paused && this.status === "open") this.socket.resume();
  }

  /** Bytes waiting to reach the peer: queued here plus buffered in the socket. */
  get pendingBytes(): number {
    return this.outBytes + this.socket.writableLength;
  }

  info(details?: Record<string, string | number>): PeerInfo {
    const info: PeerInfo = {
      id: this.id,
      service: this.service,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      tls: this.tls,
      connectedAt: new Date(this.connectedAt).toISOString(),
      // The coarse clock can run up to a sweep interval behind: never report more idle time than age.
      idleMs: Math.max(0, Math.min(Date.now() - this.connectedAt, coarseClock.now - this.lastActivity)),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      status: this.status,
    };
    if (details !== undefined) info.details = details;
    return info;
  }
}
