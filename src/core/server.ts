// The connection engine: accepts peers, frames their bytes into messages, hands
// each message to the service's handler, batches replies, applies backpressure
// and limits, tracks every peer, and shuts down without losing a reply.
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import {
  createServer as createTlsServer,
  type TLSSocket,
  type TlsOptions,
  type Server as TlsServer,
} from "node:tls";
import { lines } from "../codecs/lines.js";
import type { Framing } from "../codecs/types.js";
import { EchoplexError, type ErrorCode, listenError } from "../errors.js";
import { type Address, formatAddress, parseAddress } from "./address.js";
import { coarseClock, tickClock } from "./clock.js";
import { type CloseReason, Connection, type ConnectionHost, type PeerInfo } from "./connection.js";
import { type Limits, resolveLimits } from "./limits.js";
import { cutOff, lingerClose } from "./linger.js";
import { type Logger, silentLogger } from "./logger.js";
import { awaitProxyHeader, type HandshakeOutcome } from "./proxy-handshake.js";
import { RateLimiter, type RateVerdict } from "./rate-limit.js";
import { ServerStats, type ServiceMetric } from "./stats.js";
import { withTlsDefaults } from "./tls.js";
import { isRenegotiationError, trackTlsHandshakes } from "./tls-handshakes.js";

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

export interface ServerOptions<S> {
  /** A name for logs and metrics. Default "custom". */
  service?: string;
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
}

export interface ListenInfo {
  host: string;
  port: number;
  family: string;
  /** `host:port` as people write it (`*:8080` for all interfaces). */
  display: string;
  /** True when peers must speak TLS. */
  tls: boolean;
}

const kConn = Symbol("echoplex.connection");
/** Batches up to this size are joined into one buffer before writing (measured: bench/). */
const CONCAT_MAX_BYTES = 1024 * 1024;
type EngineSocket = Socket & { [kConn]?: Connection<unknown> };

/** The connection engine. Create it with createServer(). */
export class EchoplexServer<S = undefined> implements ConnectionHost {
  readonly service: string;
  readonly framing: Framing;
  readonly limits: Limits;
  readonly logger: Logger;
  /** Every live connection by id: the peer registry. */
  readonly connections = new Map<number, Connection<S>>();
  readonly stats = new ServerStats();
  readonly tls: boolean;
  readonly proxyProtocol: boolean;

  private readonly handler: Handler<S>;
  private readonly server: NetServer;
  /**
   * With the PROXY protocol over TLS: the TLS server that never listens itself. Each
   * socket is handed to it once its PROXY header is read, so the header never reaches
   * the TLS layer and the handshake still gets every server option (client certs, SNI).
   */
  private readonly tlsAfterProxy: TlsServer | undefined;
  /** Raw sockets handed to `tlsAfterProxy`, with the client address their PROXY header gave. */
  private readonly proxiedPeers = new WeakMap<Socket, { address: string; port: number }>();
  private nextId = 1;
  private readonly perIp = new Map<string, number>();
  /**
   * Sockets that are not peers yet: in their TLS handshake, or still sending their
   * PROXY header. They count against maxConnections and are dropped at shutdown.
   */
  private readonly handshaking = new Set<Socket>();
  /** The connection whose input is being decoded; its replies flush when the read is done. */
  private reading: Connection<S> | undefined;
  private dirty: Connection<S>[] = [];
  private flushScheduled = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private onEmpty: (() => void) | undefined;
  private listenInfo: ListenInfo | undefined;
  private accepting = true;
  /** Connections accepted or refused so far (shutdown watches it to drain the backlog). */
  private acceptCount = 0;
  private readonly lastWarn = new Map<string, number>();
  private latencyRecorder: LatencyRecorder | undefined;
  private latencyEvery = 0;
  private readsUntilSample = 1;

  constructor(options: ServerOptions<S>) {
    this.service = options.service ?? "custom";
    this.framing = options.framing ?? lines();
    this.handler = options.handler;
    this.limits = resolveLimits(options.limits);
    this.logger = (options.logger ?? silentLogger()).child({ service: this.service });
    this.tls = options.tls !== undefined;
    this.proxyProtocol = options.proxyProtocol === true;
    if (options.tls !== undefined) {
      const server = createTlsServer({ ...withTlsDefaults(options.tls), allowHalfOpen: true });
      trackTlsHandshakes(server, this.handshaking, {
        accepting: () => this.accepting,
        secured: (socket) => this.secured(socket),
        stats: this.stats,
        logger: this.logger,
      });
      // The PROXY header precedes the TLS handshake: node:tls would take it for a ClientHello.
      this.tlsAfterProxy = this.proxyProtocol ? server : undefined;
      this.server = this.proxyProtocol
        ? createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket))
        : server;
    } else {
      this.server = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    }
  }

  /** Where the server listens, once listen() resolved. */
  get address(): ListenInfo | undefined {
    return this.listenInfo;
  }

  /** The service's own metrics (Handler.metrics). */
  get metrics(): readonly ServiceMetric[] {
    return this.handler.metrics ?? [];
  }

  /** A snapshot of the live connections (the oldest `limit`), with the service's details (Handler.describe). */
  peers(limit = Number.POSITIVE_INFINITY): PeerInfo[] {
    const out: PeerInfo[] = [];
    const describe = this.handler.describe;
    for (const conn of this.connections.values()) {
      if (out.length >= limit) break;
      out.push(conn.info(describe === undefined ? undefined : describe.call(this.handler, conn)));
    }
    return out;
  }

  /**
   * Samples request-to-reply latency: 1 read in `every` (and the first) is timed from
   * the chunk's arrival to the write of the replies it caused, also when a promise
   * produces them later. Costs one branch per read while nobody observes.
   */
  observeLatency(record: LatencyRecorder, every = 16): void {
    this.latencyRecorder = record;
    this.latencyEvery = Math.max(1, Math.floor(every));
    this.readsUntilSample = 1;
  }

  /** True from the start of shutdown on. */
  get draining(): boolean {
    return this.shutdownPromise !== undefined;
  }

  /**
   * Starts listening. `address` takes the forms `8080`, `:8080`, `127.0.0.1:8080`,
   * `[::1]:8080`, `localhost:8080`; port 0 picks a free port (see the result).
   */
  async listen(address: string | number | Address = 0): Promise<ListenInfo> {
    const addr = typeof address === "object" ? address : parseAddress(address);
    const where = formatAddress(addr.host, addr.port);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, where));
      this.server.once("error", onError);
      this.server.listen({ host: addr.host, port: addr.port, backlog: 4096 }, () => {
        this.server.off("error", onError);
        // Accept errors (EMFILE, ENFILE) must not crash the process; they are logged and survived.
        this.server.on("error", (err: NodeJS.ErrnoException) => this.warnThrottled("accept", err));
        const bound = this.server.address();
        if (bound === null || typeof bound === "string") {
          reject(new EchoplexError("ERR_BAD_ADDRESS", `cannot listen on ${where}`));
          return;
        }
        const host = addr.host ?? bound.address;
        this.listenInfo = {
          host,
          port: bound.port,
          family: bound.family,
          display: formatAddress(addr.host, bound.port),
          tls: this.tls,
        };
        this.startSweep();
        this.logger.info(
          { address: this.listenInfo.display, framing: this.framing.name, tls: this.tls },
          "listening",
        );
        resolve(this.listenInfo);
      });
    });
  }

  // --- accepting -------------------------------------------------------------------

  private accept(socket: Socket): void {
    this.acceptCount++;
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    if (this.connections.size + this.handshaking.size >= this.limits.maxConnections) {
      this.reject(
        socket,
        "max_connections",
        new EchoplexError(
          "ERR_TOO_MANY_CONNECTIONS",
          `too many connections (limit ${this.limits.maxConnections})`,
        ),
      );
      return;
    }
    if (this.proxyProtocol) {
      this.handshaking.add(socket);
      awaitProxyHeader(socket, this.limits.proxyHeaderTimeoutMs, (outcome) =>
        this.proxyHandshakeDone(socket, outcome),
      );
      return;
    }
    this.admit(socket, socket.remoteAddress ?? "unknown", socket.remotePort ?? 0, undefined);
  }

  private proxyHandshakeDone(socket: Socket, outcome: HandshakeOutcome): void {
    this.handshaking.delete(socket);
    if (outcome.kind === "gone") {
      socket.destroy();
      return;
    }
    if (outcome.kind === "refused") {
      this.reject(socket, "proxy_protocol", outcome.error);
      return;
    }
    const { header, rest } = outcome;
    const address = header.command === "proxy" ? header.source.address : (socket.remoteAddress ?? "unknown");
    const port = header.command === "proxy" ? header.source.port : (socket.remotePort ?? 0);
    if (this.tlsAfterProxy !== undefined) {
      // The bytes after the header start the handshake: node:tls reads what is buffered first.
      this.proxiedPeers.set(socket, { address, port });
      if (rest.length > 0) socket.unshift(rest);
      this.tlsAfterProxy.emit("connection", socket);
      return;
    }
    this.admit(socket, address, port, rest);
    socket.resume();
  }

  /** A TLS handshake completed: a new peer, or (behind a PROXY header) one accepted already. */
  private secured(socket: TLSSocket): void {
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const proxied = raw === undefined ? undefined : this.proxiedPeers.get(raw);
    if (proxied === undefined) this.accept(socket);
    else this.admit(socket, proxied.address, proxied.port, undefined);
  }

  /**
   * Registers a connection from `remoteAddress` (the socket's, or the client's behind a
   * proxy) after the per-IP check; `early` is data that arrived with the PROXY header.
   */
  private admit(socket: Socket, remoteAddress: string, remotePort: number, early: Buffer | undefined): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const perIpLimit = this.limits.maxConnectionsPerIp;
    if (perIpLimit > 0) {
      const count = this.perIp.get(remoteAddress) ?? 0;
      if (count >= perIpLimit) {
        this.reject(
          socket,
          "max_connections_per_ip",
          new EchoplexError(
            "ERR_TOO_MANY_CONNECTIONS_PER_IP",
            `too many connections from ${remoteAddress} (limit ${perIpLimit})`,
          ),
        );
        return;
      }
      this.perIp.set(remoteAddress, count + 1);
    }
    socket.setNoDelay(true);
    const conn = new Connection<S>(
      this.nextId++,
      socket,
      this.service,
      remoteAddress,
      remotePort,
      this.tls,
      this,
      this.handler.createState(),
    );
    conn.codec = this.framing.create((payload) => this.deliver(conn, payload));
    const rate = this.limits.maxMessagesPerSecond;
    if (rate > 0) {
      conn.rateLimiter = new RateLimiter(rate, this.limits.rateBurst, this.limits.rateGraceMs, Date.now());
    }
    (socket as EngineSocket)[kConn] = conn as Connection<unknown>;
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("drain", onSocketDrain);
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    this.connections.set(conn.id, conn);
    this.stats.connectionsOpened++;
    if (this.proxyProtocol) {
      this.logger.info(
        { conn: conn.id, remote: remoteAddress, port: remotePort, via: socket.remoteAddress },
        "connect",
      );
    } else {
      this.logger.info({ conn: conn.id, remote: remoteAddress, port: remotePort }, "connect");
    }
    this.handler.onConnect?.(conn);
    if (early !== undefined && early.length > 0) this.handleData(conn, early);
  }

  /** Refuses a connection with a framed error message, then closes it. */
  private reject(socket: Socket, reason: string, err: EchoplexError): void {
    this.stats.countRejected(reason);
    this.stats.countError(err.code);
    this.warnThrottled(reason, err, { remote: socket.remoteAddress });
    const out: Buffer[] = [];
    const notice = this.errorNotice(err);
    if (notice !== undefined) this.framing.create(() => {}).encode(out, toBuffer(notice));
    lingerClose(socket, out.length > 0 ? Buffer.concat(out) : undefined, {
      lingerMs: this.limits.lingerMs,
      flushMs: this.limits.idleTimeoutMs,
    });
  }

  // --- reading -----------------------------------------------------------------------

  /** @internal A chunk arrived from the peer. */
  handleData(conn: Connection<S>, chunk: Buffer): void {
    // Closing (or about to, after a protocol error): the peer's input is discarded.
    if (conn.status !== "open" || conn.closeAfterReplies !== undefined) return;
    conn.bytesIn += chunk.length;
    conn.lastActivity = coarseClock.now;
    if (this.latencyRecorder !== undefined && --this.readsUntilSample <= 0) this.startSample(conn);
    // One clock read per chunk, not per message.
    conn.rateLimiter?.refill(Date.now());
    this.reading = conn;
    try {
      conn.codec.push(chunk);
    } catch (err) {
      this.protocolError(conn, err);
    }
    this.reading = undefined;
    // The line deadline runs from the first byte of a partial line to its end (swept).
    if (conn.codec.bufferedBytes === 0) conn.partialSince = 0;
    else if (conn.partialSince === 0) conn.partialSince = coarseClock.now;
    this.flush(conn);
    // A chunk that completed no request (half a line) has no reply to time.
    if (conn.sampleStart !== 0 && conn.inflight === 0) conn.sampleStart = 0;
  }

  private startSample(conn: Connection<S>): void {
    this.readsUntilSample = this.latencyEvery;
    if (conn.sampleStart === 0) conn.sampleStart = performance.now();
  }

  /** @internal The peer half-closed. */
  handleEnd(conn: Connection<S>): void {
    conn.peerEnded = true;
    // After a protocol error the codec's leftovers are not a message.
    if (conn.status !== "open" || conn.closeAfterReplies !== undefined) return;
    this.reading = conn;
    try {
      conn.codec.end();
    } catch (err) {
      this.protocolError(conn, err);
    }
    this.reading = undefined;
    if (conn.status !== "open") return;
    if (this.handler.onEnd !== undefined) this.handler.onEnd(conn);
    if (conn.inflight === 0) this.close(conn, "peer closed");
    else this.flush(conn);
  }

  private deliver(conn: Connection<S>, payload: Buffer): void {
    if (conn.status !== "open") return; // a message after QUIT or an error in the same chunk
    conn.messagesIn++;
    if (conn.rateLimiter !== undefined) {
      const verdict = conn.rateLimiter.take();
      if (verdict !== "pass") {
        this.rateLimited(conn, conn.rateLimiter, verdict);
        if (conn.status === "open" && this.handler.onDropped !== undefined) this.handler.onDropped(conn);
        return;
      }
    }
    const result = this.handler.onMessage(conn, payload);
    if (result !== undefined) this.track(conn, result);
  }

  /** A message over the rate limit: dropped; the peer is told once per episode, then disconnected if it persists. */
  private rateLimited(
    conn: Connection<S>,
    limiter: RateLimiter,
    verdict: Exclude<RateVerdict, "pass">,
  ): void {
    if (verdict === "drop") return;
    this.stats.countError("ERR_RATE_LIMITED");
    const limit = `rate limit exceeded (${limiter.rate} messages/s)`;
    if (verdict === "first-drop") {
      this.logger.warn(
        { conn: conn.id, remote: conn.remoteAddress, rate: limiter.rate, burst: limiter.burst },
        "rate limit exceeded, dropping messages",
      );
      const notice = this.errorNotice(new EchoplexError("ERR_RATE_LIMITED", limit));
      if (notice !== undefined) conn.send(notice);
      return;
    }
    this.logger.warn(
      {
        conn: conn.id,
        remote: conn.remoteAddress,
        rate: limiter.rate,
        excessMs: limiter.excessMs,
        dropped: limiter.dropped,
      },
      "rate limit exceeded persistently, disconnecting",
    );
    const err = new EchoplexError(
      "ERR_RATE_LIMITED",
      `${limit} for ${formatSeconds(limiter.graceMs)}, disconnecting`,
    );
    this.close(conn, "rate limited", this.errorNotice(err));
  }

  private track(conn: Connection<S>, pending: Promise<void>): void {
    conn.inflight++;
    pending.then(
      () => this.settled(conn),
      (err: unknown) => {
        this.logger.error({ conn: conn.id, err }, "handler failed");
        this.stats.countError("ERR_HANDLER");
        this.settled(conn);
      },
    );
  }

  private settled(conn: Connection<S>): void {
    conn.inflight--;
    if (conn.inflight > 0 || conn.status !== "open") return;
    const pending = conn.closeAfterReplies;
    if (pending !== undefined) this.close(conn, pending.reason, pending.notice);
    else if (conn.peerEnded) this.close(conn, "peer closed");
    else if (this.draining) this.close(conn, "server shutdown", this.shutdownNotice(conn));
  }

  private protocolError(conn: Connection<S>, err: unknown): void {
    if (!EchoplexError.is(err)) throw err;
    this.stats.countError(err.code);
    this.logger.warn(
      { conn: conn.id, remote: conn.remoteAddress, code: err.code, err: err.message },
      "protocol error, closing",
    );
    const reason: CloseReason =
      err.code === "ERR_LINE_TOO_LONG"
        ? "line too long"
        : err.code === "ERR_FRAME_TOO_LARGE"
          ? "frame too large"
          : "protocol error";
    const notice = this.errorNotice(err);
    if (conn.inflight > 0) {
      // Messages before the bad one are still being answered (a sink's OKs wait for the
      // disk): closing now would lose those answers; the error goes after them (§1.3).
      conn.closeAfterReplies = { reason, notice };
      return;
    }
    this.close(conn, reason, notice);
  }

  // --- writing -----------------------------------------------------------------------

  /** @internal Queues a connection for the once-per-tick flush. */
  scheduleFlush(conn: Connection<S>): void {
    if (conn === this.reading) return; // flushed when its read is done
    conn.flushQueued = true;
    this.dirty.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushDirty);
    }
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const conn of dirty) {
      conn.flushQueued = false;
      this.flush(conn);
    }
  };

  /** @internal Writes a connection's queued replies as one batch. */
  flush(conn: Connection<S>): void {
    const bytes = conn.outBytes;
    if (bytes === 0) return;
    const out = conn.out;
    conn.outBytes = 0;
    if (conn.status === "closed") {
      out.length = 0;
      return;
    }
    const socket = conn.socket;
    let below: boolean;
    if (out.length === 1) {
      below = socket.write(out[0]!);
    } else if (bytes <= CONCAT_MAX_BYTES || out.length > bytes / 1024) {
      // One copy beats one stream write per part: Node's per-write cost (a request
      // object and bookkeeping each) is larger than a memcpy of a few hundred KiB.
      below = socket.write(Buffer.concat(out, bytes));
    } else {
      // Few, large parts: written as views (writev) rather than copied into one buffer.
      socket.cork();
      for (const part of out) socket.write(part);
      socket.uncork();
      below = false;
    }
    out.length = 0;
    conn.bytesOut += bytes;
    conn.lastActivity = coarseClock.now;
    if (conn.sampleStart !== 0) {
      this.latencyRecorder?.(performance.now() - conn.sampleStart);
      conn.sampleStart = 0;
    }
    // write() is true while the socket holds less than its 16 KiB mark, which is below
    // any high-water mark (resolveLimits keeps it >= 16 KiB): only then look closer.
    if (below) return;
    const pending = socket.writableLength;
    if (pending >= this.limits.highWaterBytes) this.backpressure(conn, pending);
  }

  private backpressure(conn: Connection<S>, pending: number): void {
    if (pending > this.limits.maxPendingBytes) {
      this.stats.countError("ERR_SLOW_CONSUMER");
      this.logger.warn(
        {
          conn: conn.id,
          remote: conn.remoteAddress,
          pendingBytes: pending,
          limit: this.limits.maxPendingBytes,
        },
        "slow consumer: pending output over the limit, disconnecting",
      );
      conn.closeReason = "slow consumer";
      conn.socket.destroy();
      return;
    }
    if (!conn.paused) {
      conn.paused = true;
      conn.socket.pause();
      this.stats.backpressurePauses++;
    }
  }

  /** @internal The socket's output drained: read again. */
  handleDrain(conn: Connection<S>): void {
    if (!conn.paused || conn.status !== "open" || this.draining) return;
    conn.paused = false;
    if (conn.inputHolds === 0) conn.socket.resume();
  }

  // --- closing -----------------------------------------------------------------------

  /** @internal Sends an optional last message, flushes, and half-closes; input is discarded from now on. */
  close(conn: Connection<S>, reason: CloseReason, notice?: string | Buffer): void {
    if (conn.status !== "open") return;
    conn.closeReason = reason;
    if (notice !== undefined) conn.send(notice);
    conn.status = "closing";
    this.flush(conn);
    // A peer that does not take its last replies gets as long as an idle peer, then a reset.
    lingerClose(conn.socket, undefined, {
      lingerMs: this.limits.lingerMs,
      flushMs: this.limits.idleTimeoutMs,
      onUnsent: (unsentBytes) => this.unsentAtClose(conn, unsentBytes),
    });
  }

  private unsentAtClose(conn: Connection<S>, unsentBytes: number): void {
    this.stats.countError("ERR_SLOW_CONSUMER");
    this.logger.warn(
      { conn: conn.id, remote: conn.remoteAddress, unsentBytes, waitedMs: this.limits.idleTimeoutMs },
      "closing: the peer did not read its last replies in time, resetting",
    );
    conn.closeReason = "slow consumer";
  }

  /** @internal The socket is gone: forget the connection and log its totals. */
  handleClose(conn: Connection<S>): void {
    if (conn.status === "closed") return;
    if (conn.status === "open" && conn.closeReason === undefined) {
      conn.closeReason = conn.peerEnded ? "peer closed" : "peer reset";
    }
    conn.status = "closed";
    conn.out.length = 0;
    conn.outBytes = 0;
    this.connections.delete(conn.id);
    if (this.limits.maxConnectionsPerIp > 0) {
      const count = (this.perIp.get(conn.remoteAddress) ?? 1) - 1;
      if (count <= 0) this.perIp.delete(conn.remoteAddress);
      else this.perIp.set(conn.remoteAddress, count);
    }
    this.stats.retire(conn);
    const reason = conn.closeReason ?? "peer closed";
    this.logger.info(
      {
        conn: conn.id,
        remote: conn.remoteAddress,
        reason,
        durationMs: Date.now() - conn.connectedAt,
        bytesIn: conn.bytesIn,
        bytesOut: conn.bytesOut,
        messagesIn: conn.messagesIn,
        messagesOut: conn.messagesOut,
      },
      "disconnect",
    );
    this.handler.onClose?.(conn, reason);
    if (this.connections.size === 0) this.onEmpty?.();
  }

  /** @internal */
  handleError(conn: Connection<S>, err: NodeJS.ErrnoException): void {
    if (conn.closeReason === undefined) {
      conn.closeReason =
        err.code === "ECONNRESET" || err.code === "EPIPE"
          ? "peer reset"
          : isRenegotiationError(err)
            ? "tls renegotiation"
            : "socket error";
    }
    this.logger.debug({ conn: conn.id, err: err.code ?? err.message }, "socket error");
  }

  private errorNotice(err: EchoplexError): string | Buffer | undefined {
    return this.handler.errorNotice !== undefined ? this.handler.errorNotice(err) : `ERROR: ${err.message}`;
  }

  private shutdownNotice(conn: Connection<S>): string | Buffer | undefined {
    return this.handler.shutdownNotice?.(conn);
  }

  // --- idle sweep ----------------------------------------------------------------------

  private startSweep(): void {
    if (this.sweepTimer !== undefined) return;
    tickClock();
    const shortest = Math.min(
      this.limits.idleTimeoutMs || Number.POSITIVE_INFINITY,
      this.limits.lineTimeoutMs || Number.POSITIVE_INFINITY,
    );
    const every = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    // One timer for all connections instead of one per socket.
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const now = tickClock();
    const idle = this.limits.idleTimeoutMs;
    const lineTimeout = this.limits.lineTimeoutMs;
    if (idle === 0 && lineTimeout === 0) return;
    for (const conn of this.connections.values()) {
      if (conn.status !== "open") continue;
      if (lineTimeout > 0 && conn.partialSince !== 0 && conn.closeAfterReplies === undefined) {
        // While we do not read (backpressure, a held input) the peer cannot finish its line.
        if (conn.paused || conn.inputHolds > 0) conn.partialSince = now;
        else if (now - conn.partialSince > lineTimeout) {
          this.lineTimedOut(conn, now);
          continue;
        }
      }
      if (idle === 0 || now - conn.lastActivity <= idle) continue;
      this.stats.countError("ERR_IDLE_TIMEOUT");
      const err = new EchoplexError(
        "ERR_IDLE_TIMEOUT",
        `idle timeout: no traffic for ${formatSeconds(idle)}, closing`,
      );
      this.logger.info(
        { conn: conn.id, remote: conn.remoteAddress, idleMs: now - conn.lastActivity },
        "idle timeout",
      );
      this.close(conn, "idle timeout", this.errorNotice(err));
    }
  }

  private lineTimedOut(conn: Connection<S>, now: number): void {
    const limit = this.limits.lineTimeoutMs;
    this.stats.countError("ERR_LINE_TIMEOUT");
    this.logger.warn(
      {
        conn: conn.id,
        remote: conn.remoteAddress,
        partialMs: now - conn.partialSince,
        bufferedBytes: conn.codec.bufferedBytes,
      },
      "line timeout: partial line not completed, closing",
    );
    const err = new EchoplexError(
      "ERR_LINE_TIMEOUT",
      `line timeout: line not completed within ${formatSeconds(limit)}, closing`,
    );
    this.close(conn, "line timeout", this.errorNotice(err));
  }

  // --- shutdown ------------------------------------------------------------------------

  /**
   * Graceful shutdown: stop accepting; answer what was already received; send each
   * peer the service's notice; wait for replies to flush; force-close whatever is
   * left after `drainTimeoutMs`. Safe to call more than once.
   */
  shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.shutdownPromise = this.runShutdown(options.drainTimeoutMs ?? this.limits.drainTimeoutMs);
    }
    return this.shutdownPromise;
  }

  private async runShutdown(drainTimeoutMs: number): Promise<void> {
    const started = Date.now();
    this.logger.info({ connections: this.connections.size, drainTimeoutMs }, "shutting down");
    // Connections the kernel already completed sit in the accept backlog, and Node
    // accepts one per event-loop turn: keep turning until no more arrive (bounded),
    // then close the listener, so no connection that was established is reset.
    const acceptDeadline = Date.now() + Math.min(1000, drainTimeoutMs);
    let before: number;
    do {
      before = this.acceptCount;
      await nextTurn();
      await nextTurn();
    } while (this.acceptCount !== before && Date.now() < acceptDeadline);
    this.accepting = false;
    const listenerClosed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    // Two turns of the event loop: bytes already in the kernel's buffers are read and answered.
    await nextTurn();
    await nextTurn();
    for (const conn of this.connections.values()) {
      if (conn.status !== "open") continue;
      conn.socket.pause();
      conn.paused = true;
      if (conn.inflight === 0) this.close(conn, "server shutdown", this.shutdownNotice(conn));
    }
    if (this.connections.size > 0) {
      const drained = new Promise<void>((resolve) => {
        this.onEmpty = resolve;
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), drainTimeoutMs);
      });
      const forced = await Promise.race([drained.then(() => false), timedOut]);
      clearTimeout(timer);
      if (forced) {
        cutOff(this.connections.values(), { logger: this.logger, stats: this.stats, drainTimeoutMs });
        await new Promise<void>((resolve) => {
          if (this.connections.size === 0) resolve();
          else this.onEmpty = resolve;
        });
      }
    }
    // Half-done TLS handshakes are not peers with requests to answer, but they would hold
    // up close() until their handshake timeout. Every peer is gone by now.
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    await listenerClosed;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.logger.info({ durationMs: Date.now() - started }, "shut down");
  }

  private warnThrottled(key: string, err: Error, fields: Record<string, unknown> = {}): void {
    // Floods (a connection storm over the limit) must not turn into a flood of log lines.
    const now = Date.now();
    if (now - (this.lastWarn.get(key) ?? 0) < 1000) return;
    this.lastWarn.set(key, now);
    this.logger.warn({ ...fields, code: (err as NodeJS.ErrnoException).code, err: err.message }, key);
  }
}

/** Creates a server around a handler. Call listen() to start it. */
export function createServer<S = undefined>(options: ServerOptions<S>): EchoplexServer<S> {
  return new EchoplexServer<S>(options);
}

// Socket handlers live at module level (one function for all sockets, no closure
// per connection); the connection hangs off the socket.
function onSocketData(this: EngineSocket, chunk: Buffer): void {
  const conn = this[kConn]!;
  (conn.host as EchoplexServer<unknown>).handleData(conn, chunk);
}
function onSocketEnd(this: EngineSocket): void {
  const conn = this[kConn]!;
  (conn.host as EchoplexServer<unknown>).handleEnd(conn);
}
function onSocketDrain(this: EngineSocket): void {
  const conn = this[kConn]!;
  (conn.host as EchoplexServer<unknown>).handleDrain(conn);
}
function onSocketError(this: EngineSocket, err: NodeJS.ErrnoException): void {
  const conn = this[kConn]!;
  (conn.host as EchoplexServer<unknown>).handleError(conn, err);
}
function onSocketClose(this: EngineSocket): void {
  const conn = this[kConn]!;
  (conn.host as EchoplexServer<unknown>).handleClose(conn);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === "string" ? Buffer.from(value) : value;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export type { ErrorCode };
