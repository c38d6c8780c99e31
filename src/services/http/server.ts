// The HTTP responder on node:http (or node:https): composes its parts — admission and
// peers (connections.ts), the request path (requests.ts), client errors, the lingering
// close, the idle guard and the drain (shutdown.ts) — on the engine's listen, clock,
// ticker, warning throttle and drain helpers. What runServers and the admin endpoint see.
import { createServer as createHttpServer, type Server } from "node:http";
import type * as Https from "node:https";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { Address } from "../../core/address.js";
import type { PeerInfo } from "../../core/connection.js";
import { bindServer, bindUnixServer } from "../../core/listen.js";
import { parseListenAddress } from "../../core/listen-address.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { LatencyRecorder, ListenInfo } from "../../core/server.js";
import type { Service, ServiceCounters, ServiceDescription } from "../../core/service.js";
import { counter, gauge, type ServiceMetric } from "../../core/stats.js";
import { withTlsDefaults } from "../../core/tls.js";
import { trackTlsHandshakes } from "../../core/tls-handshakes.js";
import { WarnThrottle } from "../../core/warn-throttle.js";
import { EchoplexError } from "../../errors.js";
import type { FaultRegistry } from "../../faults/registry.js";
import { onClientError } from "./client-error.js";
import { type ConnectionsContext, HttpConnections } from "./connections.js";
import { answerAfterHalfClose } from "./half-close.js";
import { IdleGuard } from "./idle-guard.js";
import { Lingerer } from "./linger.js";
import { type HttpPeer, HttpStats } from "./peer.js";
import { formatMs } from "./plan.js";
import { RequestPath } from "./requests.js";
import { WsEcho } from "./routes/ws.js";
import {
  type HttpResponderOptions,
  type HttpSettings,
  nodeServerOptions,
  resolveHttpSettings,
} from "./settings.js";
import { HttpDrain } from "./shutdown.js";

/** The HTTP responder: a `Service` (src/core/service.ts) like the engine's, on node:http. */
export class HttpResponder implements Service {
  readonly service = "http";
  /** Faults injected into answers (--fault, the admin API); undefined: none. */
  readonly faults: FaultRegistry | undefined;
  readonly settings: HttpSettings;
  readonly logger: Logger;
  readonly tls: boolean;
  /** Every connected client by id: the peer registry. */
  readonly connections: Map<number, HttpPeer>;
  /** Its own record (requests, answers by status…); `stats()` is what the admin endpoint reads. */
  readonly counts = new HttpStats();
  /** Connections closing: the half-closed sockets still discarding their peer's input. */
  readonly lingering: Lingerer;

  private readonly server: Server;
  private readonly handshaking = new Set<Socket>();
  private readonly peerSet: HttpConnections;
  private readonly requests: RequestPath;
  private readonly drain: HttpDrain;
  /** /ws: the WebSocket echo on the upgrade event. */
  private readonly wsEcho: WsEcho;
  /** What the connections part shares with the responder; its transport is set by listen(). */
  private readonly doorContext: ConnectionsContext;
  private readonly unixMode: number | undefined;
  private readonly warnings: WarnThrottle;
  private listenInfo: ListenInfo | undefined;
  private shutdownPromise: Promise<void> | undefined;
  /** Read at scrape time (the admin endpoint adds the `echoplex_` prefix and the service label). */
  readonly metrics: readonly ServiceMetric[] = [
    gauge("http_requests_inflight", "Requests waiting for their delayed answer", () => this.inflight),
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
    this.settings = resolveHttpSettings(options);
    const s = this.settings;
    this.logger = (options.logger ?? silentLogger()).child({ service: this.service });
    this.warnings = new WarnThrottle(this.logger);
    this.tls = options.tls !== undefined;
    const { counts: stats, logger } = this;
    // A client gets as long to take its last answer as it had to send its request.
    const flushMs = s.requestTimeoutMs > 0 ? s.requestTimeoutMs : 30_000;
    this.lingering = new Lingerer(
      { lingerMs: s.lingerMs, lingerBytes: s.lingerBytes, flushMs },
      (socket, how, n) => this.peerSet.lingerEnded(socket, how, n),
    );
    const settled = () => {
      if (this.draining) this.drain.check();
    };
    const { warnings, tls, lingering } = this;
    this.doorContext = {
      settings: s,
      stats,
      logger,
      warnings,
      tls,
      transport: tls ? "tls" : "tcp",
      closed: settled,
      faults: options.faults,
    };
    this.faults = options.faults;
    this.unixMode = options.unixMode;
    this.peerSet = new HttpConnections(this.doorContext, lingering);
    this.connections = this.peerSet.registry;
    // Faults added at run time to a responder started without any reach its open connections too.
    this.faults?.onActivate(() => this.peerSet.attachFaultsToAll());

    if (options.tls !== undefined) {
      // node:https (and node:tls, OpenSSL's state with it) only for an https:// responder.
      const https = createRequire(import.meta.url)("node:https") as typeof Https;
      const server = https.createServer({
        ...withTlsDefaults(options.tls),
        ...nodeServerOptions(s),
        allowHalfOpen: true,
      });
      trackTlsHandshakes(server, this.handshaking, {
        accepting: () => true,
        secured: (socket) => this.peerSet.accept(socket),
        stats,
        logger,
      });
      this.server = server;
    } else {
      this.server = createHttpServer(nodeServerOptions(s));
      this.server.on("connection", (socket: Socket) => this.peerSet.accept(socket));
    }
    answerAfterHalfClose(this.server);
    const idleGuard = new IdleGuard(this.server, () => this.sockets(), lingering);
    const draining = () => this.draining;
    const routeSite = {
      scheme: tls ? "https" : "http",
      limits: { maxBytes: s.maxBytes, maxDelayMs: s.maxDelayMs, allowOpenRedirect: s.allowOpenRedirect },
    };
    this.requests = new RequestPath({
      settings: s,
      stats,
      logger,
      lingering,
      idleGuard,
      routeSite,
      draining,
      settled,
    });
    this.wsEcho = new WsEcho(s.maxBytes);
    this.server.on("upgrade", (req, socket, head) => this.wsEcho.upgrade(req, socket, head));
    this.drain = new HttpDrain({
      server: this.server,
      logger,
      stats,
      peers: this.connections,
      requests: this.requests,
      lingering,
      handshaking: this.handshaking,
    });
    this.server.on("request", (req, res) => this.requests.request(req, res));
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) =>
      onClientError(err, socket, { stats, logger, lingering }),
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
    return this.requests.pending.size;
  }

  // --- observation (the admin endpoint) ------------------------------------------------

  stats(): ServiceCounters {
    return this.peerSet.counters();
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
    return this.peerSet.peers(this.service, limit);
  }

  /**
   * Times every answer, from the parsed request to the write of its answer (its delay
   * included). Every one, not 1 in `every`: node:http spends far more per request than
   * two clock reads, so sampling would save nothing worth the lost samples.
   */
  observeLatency(record: LatencyRecorder, _every?: number): void {
    this.requests.latencyRecorder = record;
  }

  async listen(...addresses: Array<string | number | Address>): Promise<ListenInfo> {
    const [address = 0, ...more] = addresses;
    const addr = httpAddress(address, this.tls);
    if (this.listenInfo !== undefined || more.length > 0) {
      throw new EchoplexError(
        "ERR_BAD_ADDRESS",
        `the HTTP responder listens on one address${this.listenInfo === undefined ? "" : ` (${this.listenInfo.display})`}`,
      );
    }
    const onAcceptError = (err: NodeJS.ErrnoException) =>
      this.warnings.warn("accept", { code: err.code, err: err.message });
    const bound =
      "path" in addr
        ? await bindUnixServer(this.server, addr.path, this.unixMode, onAcceptError)
        : await bindServer(this.server, addr, onAcceptError);
    const transport = "path" in addr ? "unix" : this.tls ? "tls" : "tcp";
    this.doorContext.transport = transport;
    this.listenInfo = { ...bound, tls: this.tls, transport };
    this.peerSet.startClock();
    this.logger.info(
      { address: this.listenInfo.display, delayMs: this.settings.delayMs, tls: this.tls },
      "listening",
    );
    return this.listenInfo;
  }

  /**
   * Graceful shutdown: stop accepting, close idle keep-alive connections, answer every
   * request already received (their delays run out), then close; force-close whatever
   * is left after `drainTimeoutMs`. Safe to call more than once.
   */
  shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.shutdownPromise === undefined) {
      const drainTimeoutMs = options.drainTimeoutMs ?? this.settings.drainTimeoutMs;
      this.wsEcho.closeAll();
      this.shutdownPromise = this.drain.run(drainTimeoutMs).finally(() => this.peerSet.stopClock());
    }
    return this.shutdownPromise;
  }

  private *sockets(): Iterable<Socket> {
    for (const peer of this.connections.values()) yield peer.socket;
  }
}

export function createHttpResponder(options: HttpResponderOptions = {}): HttpResponder {
  return new HttpResponder(options);
}

/** The TCP address or Unix path of a listen form: HTTP is a stream protocol. */
function httpAddress(address: string | number | Address, tls: boolean): Address | { path: string } {
  const target = parseListenAddress(address);
  if (target.transport === "unix") return { path: target.path };
  if (target.transport !== "tcp") {
    throw new EchoplexError(
      "ERR_BAD_ADDRESS",
      `the HTTP responder cannot listen on ${String(address)}: it listens on TCP or a Unix socket (HOST:PORT, tcp://, tls://, unix:)`,
    );
  }
  if (target.tls !== undefined && target.tls !== tls) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      target.tls
        ? `${String(address)}: tls:// needs --tls-cert and --tls-key (or --tls-self-signed)`
        : `${String(address)}: tcp:// on a TLS responder; use tls://`,
    );
  }
  return target.address;
}
