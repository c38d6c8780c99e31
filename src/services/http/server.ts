// The HTTP responder's server on node:http (or node:https): delays each answer with a
// timer, tracks its peers, enforces its limits (pipelining included), closes with a
// lingering close, and drains in-flight responses on shutdown.

import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { TlsOptions } from "node:tls";
import { type Address, formatAddress, parseAddress } from "../../core/address.js";
import type { PeerInfo } from "../../core/connection.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { LatencyRecorder, ListenInfo } from "../../core/server.js";
import type { Service, ServiceCounters, ServiceDescription } from "../../core/service.js";
import { counter, gauge, type ServiceMetric, type TrafficTotals } from "../../core/stats.js";
import { withTlsDefaults } from "../../core/tls.js";
import { isRenegotiationError, trackTlsHandshakes } from "../../core/tls-handshakes.js";
import { EchoplexError, listenError } from "../../errors.js";
import {
  clientErrorAnswer,
  deferErrorAnswer,
  type ErrorAnswerPeer,
  type LastRequest,
  sendErrorAnswer,
  unanswerable,
} from "./client-error.js";
import { closeIdleKeepingAnswers, resetUnanswered } from "./drain.js";
import { answerAfterHalfClose, lastAnswerCloses } from "./half-close.js";
import { IdleSweep } from "./idle-sweep.js";
import { type LingerEnd, Lingerer } from "./linger.js";
import { formatMs, type PlanDefaults, planResponse } from "./plan.js";

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
  /** After the last answer on a connection, read and discard the peer's input this long at most. Default 2 s. */
  lingerMs?: number;
  /** ... and this many bytes at most (then stop reading until `lingerMs`). Default 1 MiB. */
  lingerBytes?: number;
  /** On shutdown, force-close whatever is still open after this. Default: max delay + 5 s. */
  drainTimeoutMs?: number;
  logger?: Logger;
  /** Serve HTTPS with these options. */
  tls?: TlsOptions;
}

export type HttpSettings = Required<Omit<HttpResponderOptions, "logger" | "tls">>;

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
});

/** One connected client, as the peer registry lists it. */
export interface HttpPeer extends ErrorAnswerPeer {
  id: number;
  remoteAddress: string;
  remotePort: number;
  tls: boolean;
  connectedAt: number;
  /** When a request last arrived or an answer last left. */
  lastActivity: number;
  requests: number;
  /** Answers written (any status). */
  responses: number;
  /** Requests received and not answered yet (waiting for their delay). */
  inflight: number;
  /** Requests received whose answer has not left yet (handed to the socket, or the socket gone). */
  unanswered: number;
  /** Reading stopped: `unanswered` reached `maxPipeline`. */
  held: boolean;
  /** The request received last, until its answer leaves. */
  last: LastRequest | undefined;
  readonly socket: Socket;
}

export class HttpStats {
  connectionsOpened = 0;
  requests = 0;
  tlsHandshakeFailures = 0;
  /** Clients whose connection broke before their delayed answer (a FIN alone is answered). */
  abandoned = 0;
  /** Times reading from a connection stopped because it had `maxPipeline` requests unanswered. */
  pipelinePauses = 0;
  readonly responses = new Map<number, number>();
  readonly rejected = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** Traffic of connections that have closed (bytes on the socket; messages = requests and answers). */
  readonly retired: TrafficTotals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

/** Who an answer goes to, when its request arrived (-1: not timed), and which request it was. */
interface Answering {
  peer: HttpPeer;
  startedAt: number;
  /** The request's number on its connection (1, 2, …): answers leave in this order. */
  seq: number;
}

interface Pending {
  timer: NodeJS.Timeout | undefined;
  res: ServerResponse;
  peer: HttpPeer;
}

const kPeer = Symbol("echoplex.httpPeer");
type PeerSocket = Socket & { [kPeer]?: HttpPeer };

/** The HTTP responder: a `Service` (src/core/service.ts) like the engine's, on node:http. */
export class HttpResponder implements Service {
  readonly service = "http";
  readonly settings: HttpSettings;
  readonly logger: Logger;
  readonly tls: boolean;
  /** Every connected client by id: the peer registry. */
  readonly connections = new Map<number, HttpPeer>();
  /** Its own record (requests, answers by status…); `stats()` is what the admin endpoint reads. */
  readonly counts = new HttpStats();
  /** Connections closing: the half-closed sockets still discarding their peer's input. */
  readonly lingering: Lingerer;

  private readonly server: Server;
  private readonly idleSweep: IdleSweep;
  private readonly defaults: PlanDefaults;
  private readonly body: Buffer;
  private readonly headers: Record<string, string | string[] | number>;
  private readonly pending = new Set<Pending>();
  private readonly handshaking = new Set<Socket>();
  private nextId = 1;
  private listenInfo: ListenInfo | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;
  private readonly lastWarn = new Map<string, number>();
  private latencyRecorder: LatencyRecorder | undefined;
  /** Read at scrape time (the admin endpoint adds the `echoplex_` prefix and the service label). */
  readonly metrics: readonly ServiceMetric[] = [
    gauge("http_requests_inflight", "Requests waiting for their delayed answer", () => this.pending.size),
    counter(
      "http_responses_total",
      "Answers written, by status code",
      () => [...this.counts.responses].map(([code, value]) => ({ labels: { code: String(code) }, value })),
      ["code"],
    ),
    counter("http_abandoned_total", "Clients whose connection broke before their delayed answer", () => {
      return this.counts.abandoned;
    }),
    counter(
      "http_pipeline_pauses_total",
      "Times reading from a connection stopped at --max-pipeline unanswered requests",
      () => this.counts.pipelinePauses,
    ),
    counter(
      "http_linger_cutoffs_total",
      "Lingering closes ended by time or volume: the peer kept sending after its last answer",
      () => this.lingering.cutOff,
    ),
  ];

  constructor(options: HttpResponderOptions = {}) {
    const maxDelayMs = options.maxDelayMs ?? HTTP_DEFAULTS.maxDelayMs;
    const { logger, tls, ...given } = options;
    this.settings = {
      ...HTTP_DEFAULTS,
      ...definedOnly(given),
      drainTimeoutMs: options.drainTimeoutMs ?? maxDelayMs + 5_000,
    } as HttpSettings;
    const s = this.settings;
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
    this.logger = (logger ?? silentLogger()).child({ service: this.service });
    // A client gets as long to take its last answer as it had to send its request.
    const flushMs = s.requestTimeoutMs > 0 ? s.requestTimeoutMs : 30_000;
    this.lingering = new Lingerer(
      { lingerMs: s.lingerMs, lingerBytes: s.lingerBytes, flushMs },
      (socket, how, n) => this.lingerEnded(socket, how, n),
    );
    this.tls = options.tls !== undefined;
    this.defaults = { delayMs: s.delayMs, status: s.status, maxDelayMs: s.maxDelayMs };
    this.body = Buffer.from(s.body);
    this.headers = { "content-type": "text/plain; charset=utf-8" };
    for (const [name, value] of s.headers) {
      const key = name.toLowerCase();
      const prev = this.headers[key];
      this.headers[key] =
        prev === undefined || key === "content-type"
          ? value
          : Array.isArray(prev)
            ? [...prev, value]
            : [String(prev), value];
    }

    const serverOptions = {
      keepAliveTimeout: s.keepAliveTimeoutMs,
      // Node insists on headers within the request timeout.
      headersTimeout:
        s.requestTimeoutMs > 0 ? Math.min(s.headersTimeoutMs, s.requestTimeoutMs) : s.headersTimeoutMs,
      requestTimeout: s.requestTimeoutMs,
      // Node checks header/request timeouts on this interval (30 s by default: too coarse).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(s.headersTimeoutMs / 4))),
      // Test clients (and HTTP/1.0 tools) often omit Host; a test responder should not care.
      requireHostHeader: false,
    };
    if (options.tls !== undefined) {
      const server = createHttpsServer({
        ...withTlsDefaults(options.tls),
        ...serverOptions,
        allowHalfOpen: true,
      });
      trackTlsHandshakes(server, this.handshaking, {
        accepting: () => true,
        secured: (socket) => this.accept(socket),
        stats: this.counts,
        logger: this.logger,
      });
      this.server = server;
    } else {
      this.server = createHttpServer(serverOptions);
      this.server.on("connection", (socket: Socket) => this.accept(socket));
    }
    answerAfterHalfClose(this.server);
    this.idleSweep = new IdleSweep(this.server);
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => this.request(req, res));
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) =>
      this.clientError(err, socket),
    );
  }

  get address(): ListenInfo | undefined {
    return this.listenInfo;
  }

  get draining(): boolean {
    return this.shutdownPromise !== undefined;
  }

  /** Responses waiting for their delay. */
  get inflight(): number {
    return this.pending.size;
  }

  // --- observation (the admin endpoint) ------------------------------------------------

  stats(): ServiceCounters {
    const t = { ...this.counts.retired };
    for (const peer of this.connections.values()) {
      t.bytesIn += peer.socket.bytesRead;
      t.bytesOut += peer.socket.bytesWritten;
      t.messagesIn += peer.requests;
      t.messagesOut += peer.responses;
    }
    return {
      ...t,
      connectionsActive: this.connections.size,
      connectionsOpened: this.counts.connectionsOpened,
      rejected: this.counts.rejected,
      errors: this.counts.errors,
      backpressurePauses: this.counts.pipelinePauses,
      tlsHandshakeFailures: this.counts.tlsHandshakeFailures,
    };
  }

  describe(): ServiceDescription {
    const summary = `delay ${formatMs(this.settings.delayMs)}, status ${this.settings.status}`;
    return { name: this.service, framing: "http", tls: this.tls, summary };
  }

  /**
   * The connected clients (the oldest `limit`); `details.inflight` counts their waiting
   * requests; a client held at --max-pipeline also shows `unanswered` (requests whose
   * answer has not left) and `reading: "paused"`.
   */
  peers(limit = Number.POSITIVE_INFINITY): PeerInfo[] {
    const out: PeerInfo[] = [];
    const now = Date.now();
    for (const peer of this.connections.values()) {
      if (out.length >= limit) break;
      out.push({
        id: peer.id,
        service: this.service,
        remoteAddress: peer.remoteAddress,
        remotePort: peer.remotePort,
        tls: peer.tls,
        connectedAt: new Date(peer.connectedAt).toISOString(),
        idleMs: peer.inflight > 0 ? 0 : now - peer.lastActivity,
        bytesIn: peer.socket.bytesRead,
        bytesOut: peer.socket.bytesWritten,
        messagesIn: peer.requests,
        messagesOut: peer.responses,
        status: peer.socket.writableEnded ? "closing" : "open",
        details: peer.held
          ? { inflight: peer.inflight, unanswered: peer.unanswered, reading: "paused" }
          : { inflight: peer.inflight },
      });
    }
    return out;
  }

  /**
   * Times every answer, from the parsed request to the write of its answer (its delay
   * included). Every one, not 1 in `every`: node:http spends far more per request than
   * two clock reads, so sampling would save nothing worth the lost samples.
   */
  observeLatency(record: LatencyRecorder, _every?: number): void {
    this.latencyRecorder = record;
  }

  listen(address: string | number | Address = 0): Promise<ListenInfo> {
    const addr = typeof address === "object" ? address : parseAddress(address);
    const where = formatAddress(addr.host, addr.port);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, where));
      this.server.once("error", onError);
      this.server.listen({ host: addr.host, port: addr.port, backlog: 4096 }, () => {
        this.server.off("error", onError);
        this.server.on("error", (err: NodeJS.ErrnoException) =>
          this.warnThrottled("accept", err.code ?? "", err.message),
        );
        const bound = this.server.address();
        if (bound === null || typeof bound === "string") {
          reject(new EchoplexError("ERR_BAD_ADDRESS", `cannot listen on ${where}`));
          return;
        }
        this.listenInfo = {
          host: addr.host ?? bound.address,
          port: bound.port,
          family: bound.family,
          display: formatAddress(addr.host, bound.port),
          tls: this.tls,
        };
        this.logger.info(
          { address: this.listenInfo.display, delayMs: this.settings.delayMs, tls: this.tls },
          "listening",
        );
        resolve(this.listenInfo);
      });
    });
  }

  // --- connections -------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.connections.size >= this.settings.maxConnections) {
      this.counts.count(this.counts.rejected, "max_connections");
      this.warnThrottled(
        "max_connections",
        "ERR_TOO_MANY_CONNECTIONS",
        `too many connections (limit ${this.settings.maxConnections}), answering 503`,
      );
      // Answered here and taken from node's parser: this client gets no request handling.
      const body = `too many connections (limit ${this.settings.maxConnections})\n`;
      this.lingering.close(
        socket,
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const peer: HttpPeer = {
      id: this.nextId++,
      remoteAddress: socket.remoteAddress ?? "unknown",
      remotePort: socket.remotePort ?? 0,
      tls: this.tls,
      connectedAt: Date.now(),
      lastActivity: Date.now(),
      requests: 0,
      responses: 0,
      inflight: 0,
      unanswered: 0,
      held: false,
      last: undefined,
      errorAnswer: undefined,
      socket,
    };
    (socket as PeerSocket)[kPeer] = peer;
    // node:http ends a connection after its last answer (`Connection: close`) with
    // destroySoon(): end, then destroy once flushed, which resets a peer that is still
    // sending. The responder closes it with a lingering close instead, after the client
    // error waiting its turn if there is one (the client's FIN made this answer the last).
    socket.destroySoon = () =>
      peer.errorAnswer === undefined
        ? this.lingering.close(socket)
        : sendErrorAnswer(peer, this.lingering, socket.readableEnded);
    socket.on("end", () => lastAnswerCloses(peer.last));
    // node:http resumes reading on its own (its drain handling, a request body being read):
    // a connection held at --max-pipeline stays paused.
    socket.on("resume", onHeldResume);
    this.connections.set(peer.id, peer);
    this.counts.connectionsOpened++;
    this.logger.debug({ conn: peer.id, remote: peer.remoteAddress, port: peer.remotePort }, "connect");
    socket.once("close", () => {
      this.connections.delete(peer.id);
      const retired = this.counts.retired;
      retired.bytesIn += socket.bytesRead;
      retired.bytesOut += socket.bytesWritten;
      retired.messagesIn += peer.requests;
      retired.messagesOut += peer.responses;
      this.logger.debug(
        {
          conn: peer.id,
          remote: peer.remoteAddress,
          requests: peer.requests,
          durationMs: Date.now() - peer.connectedAt,
        },
        "disconnect",
      );
      this.checkIdle();
    });
  }

  /** Malformed requests and slow clients (header/request timeouts): node hands them here. */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // Already answered and closing: node's parser reports the same bad stream again as
    // more of it arrives (or ends); the connection was counted and answered once.
    const peer = (socket as PeerSocket)[kPeer];
    if (this.lingering.has(socket) || peer?.errorAnswer !== undefined) return;
    // Counted, logged and closed where TLS sockets are set up (trackTlsHandshakes).
    if (isRenegotiationError(err)) return;
    const code = err.code ?? "ERR_HTTP_CLIENT";
    this.counts.count(this.counts.errors, code);
    if (code === "ECONNRESET" || code === "EPIPE" || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, response } = clientErrorAnswer(code);
    const after = unanswerable(peer?.last);
    const owed = peer === undefined ? 0 : peer.unanswered - after;
    this.logger.info(
      { conn: peer?.id, remote: socket.remoteAddress, code, status, ...(owed > 0 ? { after: owed } : {}) },
      "client error, closing",
    );
    if (peer !== undefined && owed > 0) {
      // Requests received whole before the bad input are answered first, after their
      // delays; written now, this answer would come first and the close would lose theirs.
      deferErrorAnswer(peer, response, after);
      return;
    }
    // The client may still be sending (the rest of a huge header, garbage): a plain close
    // would reset the connection and could destroy this answer before the client reads it.
    this.lingering.close(socket, response);
  }

  private lingerEnded(socket: Socket, how: LingerEnd, bytes: number): void {
    const peer = (socket as PeerSocket)[kPeer];
    if (how === "unsent") {
      this.counts.count(this.counts.errors, "ERR_SLOW_CONSUMER");
      this.logger.warn(
        {
          conn: peer?.id,
          remote: socket.remoteAddress,
          unsentBytes: bytes,
          waitedMs: this.lingering.limits.flushMs,
        },
        "closing: the client did not read its last answer in time, resetting",
      );
      return;
    }
    const discarded = bytes;
    this.logger.debug(
      { conn: peer?.id, remote: socket.remoteAddress, discardedBytes: discarded, how },
      how === "time"
        ? "lingering close cut off: the peer kept sending after its last answer"
        : "lingering close done",
    );
  }

  // --- requests ----------------------------------------------------------------------

  private request(req: IncomingMessage, res: ServerResponse): void {
    this.counts.requests++;
    const peer = (req.socket as PeerSocket)[kPeer];
    if (peer === undefined) {
      // A connection refused at accept: its 503 is already on the way and the socket is ending.
      req.resume();
      return;
    }
    peer.requests++;
    peer.lastActivity = Date.now();
    peer.unanswered++;
    const last: LastRequest = { req, res };
    peer.last = last;
    res.once("close", () => {
      if (peer.last === last) peer.last = undefined;
      this.answerLeft(peer);
    });
    // Judged once the request is complete: holding while its own body is still arriving
    // would leave it, and so the connection, waiting for bytes that are never read.
    if (req.complete) this.holdPipeline(peer);
    else req.once("end", () => this.holdPipeline(peer));
    // Two clock reads per request, only while the admin endpoint watches.
    const from: Answering = {
      peer,
      startedAt: this.latencyRecorder === undefined ? -1 : performance.now(),
      seq: peer.requests,
    };
    const plan = planResponse(req.url ?? "/", this.defaults);
    if (plan.kind === "health") {
      req.resume();
      this.send(res, from, 200, { "content-type": "text/plain; charset=utf-8" }, "ok\n");
      return;
    }
    if (plan.kind === "bad") {
      this.logger.info({ conn: peer.id, url: req.url, err: plan.message }, "bad override, answering 400");
      req.resume();
      this.send(res, from, 400, { "content-type": "text/plain; charset=utf-8" }, `${plan.message}\n`);
      return;
    }
    const item: Pending = { timer: undefined, res, peer };
    this.pending.add(item);
    peer.inflight++;
    res.once("close", () => this.settle(item));
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > this.settings.maxBodyBytes) {
      // Refused from the header alone: no need to read a byte of the body first.
      this.refuseBody(req, res, from);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.settings.maxBodyBytes) {
        this.refuseBody(req, res, from);
        return;
      }
      if (plan.kind === "echo") chunks.push(chunk);
    });
    req.once("end", () => {
      if (res.headersSent || res.destroyed) return;
      // The delay is a timer: thousands of requests wait at once without blocking anything.
      item.timer = setTimeout(() => {
        item.timer = undefined;
        if (plan.kind === "echo") {
          const json = `${JSON.stringify(
            {
              method: req.method,
              url: req.url,
              path: (req.url ?? "/").split("?")[0],
              query: Object.fromEntries(new URLSearchParams((req.url ?? "").split("?")[1] ?? "")),
              headers: req.headers,
              body: Buffer.concat(chunks, Math.min(size, this.settings.maxBodyBytes)).toString("utf8"),
              remote: peer.remoteAddress,
            },
            null,
            2,
          )}\n`;
          this.send(res, from, plan.status, { "content-type": "application/json" }, json);
        } else {
          this.send(res, from, plan.status, this.headers, this.body);
        }
      }, plan.delayMs);
    });
  }

  /**
   * 413, then the connection closes (lingering: the rest of the body is read and
   * discarded for a bounded time rather than reset). Once per request.
   */
  private refuseBody(req: IncomingMessage, res: ServerResponse, from: Answering): void {
    if (res.headersSent || res.destroyed) return;
    this.counts.count(this.counts.errors, "ERR_BODY_TOO_LARGE");
    this.logger.info(
      { conn: from.peer.id, remote: from.peer.remoteAddress, limit: this.settings.maxBodyBytes },
      "request body over the limit, 413",
    );
    // Until the answer leaves (it may wait behind earlier pipelined answers), read no more of the body.
    req.pause();
    res.shouldKeepAlive = false;
    this.send(
      res,
      from,
      413,
      { "content-type": "text/plain; charset=utf-8", connection: "close" },
      `request body exceeds ${this.settings.maxBodyBytes} bytes (--max-body)\n`,
    );
  }

  /**
   * Stops reading from the connection at --max-pipeline unanswered requests: a client
   * that pipelines without reading its answers then costs a bounded number of parsed
   * requests instead of everything it sends.
   */
  private holdPipeline(peer: HttpPeer): void {
    if (peer.held || peer.unanswered < this.settings.maxPipeline || peer.socket.destroyed) return;
    peer.held = true;
    this.counts.pipelinePauses++;
    peer.socket.pause();
    this.logger.debug(
      { conn: peer.id, remote: peer.remoteAddress, unanswered: peer.unanswered },
      "pipeline limit reached, reading paused until answers leave",
    );
  }

  private answerLeft(peer: HttpPeer): void {
    peer.unanswered--;
    if (peer.errorAnswer !== undefined) {
      if (peer.unanswered <= peer.errorAnswer.after) sendErrorAnswer(peer, this.lingering, false);
      return;
    }
    // Resume at half the limit, not one below it: one read then serves many answers.
    // While draining, nothing new is read: shutdown answers what was already received.
    if (!peer.held || peer.unanswered > this.settings.maxPipeline >> 1 || this.draining) return;
    peer.held = false;
    if (!peer.socket.destroyed && !this.lingering.has(peer.socket)) peer.socket.resume();
  }

  private send(
    res: ServerResponse,
    from: Answering,
    status: number,
    headers: Record<string, string | string[] | number>,
    body: string | Buffer,
  ): void {
    if (res.headersSent || res.destroyed) return;
    // While draining, the answer to the last request received ends its connection
    // (keep-alive clients must reconnect elsewhere). Not an earlier one, even if it is
    // written later (a longer delay): answers leave in request order, and a close would
    // lose those queued behind it.
    if (this.draining && from.seq === from.peer.requests) res.shouldKeepAlive = false;
    res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) });
    res.end(body);
    this.idleSweep.written(res);
    this.counts.responses.set(status, (this.counts.responses.get(status) ?? 0) + 1);
    from.peer.responses++;
    from.peer.lastActivity = Date.now();
    if (from.startedAt >= 0) this.latencyRecorder?.(performance.now() - from.startedAt);
  }

  private settle(item: Pending): void {
    if (!this.pending.delete(item)) return;
    item.peer.inflight--;
    if (item.timer !== undefined) {
      // The client went away before its answer; the timer would only write to a dead socket.
      clearTimeout(item.timer);
      this.counts.abandoned++;
      this.logger.debug({ conn: item.peer.id }, "client went away before its delayed answer");
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (!this.draining) return;
    // Keep-alive connections that just finished their last answer are closed now.
    this.closeIdle(() => this.server.closeIdleConnections());
    if (this.pending.size === 0 && this.connections.size === 0) this.onIdle?.();
  }

  // --- shutdown ----------------------------------------------------------------------

  /**
   * Graceful shutdown: stop accepting, close idle keep-alive connections, answer every
   * request already received (their delays run out), then close; force-close whatever
   * is left after `drainTimeoutMs`. Safe to call more than once.
   */
  shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.shutdownPromise = this.runShutdown(options.drainTimeoutMs ?? this.settings.drainTimeoutMs);
    }
    return this.shutdownPromise;
  }

  private async runShutdown(drainTimeoutMs: number): Promise<void> {
    const started = Date.now();
    this.logger.info(
      { connections: this.connections.size, inflight: this.pending.size, drainTimeoutMs },
      "shutting down",
    );
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.closeIdle(() => this.server.close(() => resolve()));
    });
    this.closeIdle(() => this.server.closeIdleConnections());
    if (this.pending.size > 0 || this.connections.size > 0) {
      const idle = new Promise<boolean>((resolve) => {
        this.onIdle = () => resolve(false);
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), drainTimeoutMs);
      });
      this.checkIdle();
      const forced = await Promise.race([idle, timedOut]);
      clearTimeout(timer);
      if (forced) this.forceClose(drainTimeoutMs);
    }
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    await closed;
    this.logger.info({ durationMs: Date.now() - started }, "shut down");
  }

  private closeIdle(close: () => void): void {
    closeIdleKeepingAnswers(this.connections.values(), this.lingering, close);
  }

  private forceClose(drainTimeoutMs: number): void {
    for (const item of this.pending) clearTimeout(item.timer);
    resetUnanswered(this.connections.values(), this.lingering, {
      logger: this.logger,
      countError: (code) => this.counts.count(this.counts.errors, code),
      drainTimeoutMs,
      inflight: this.pending.size,
    });
    this.server.closeAllConnections();
    for (const peer of this.connections.values()) peer.socket.destroy();
  }

  private warnThrottled(key: string, code: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(key) ?? 0) < 1000) return;
    this.lastWarn.set(key, now);
    this.logger.warn({ code, err: message }, key);
  }
}

export function createHttpResponder(options: HttpResponderOptions = {}): HttpResponder {
  return new HttpResponder(options);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * node:http resumed a socket on its own: keep it paused while its peer is held at
 * --max-pipeline, or waits to be answered a client error.
 */
function onHeldResume(this: PeerSocket): void {
  const peer = this[kPeer];
  if (peer !== undefined && (peer.held || peer.errorAnswer !== undefined)) this.pause();
}
