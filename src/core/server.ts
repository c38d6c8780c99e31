// The connection engine: accepts peers, frames their bytes into messages, hands
// each message to the service's handler, batches replies, applies backpressure
// and limits, tracks every peer, and shuts down without losing a reply. This file
// composes the parts, each owning its own state: admission.ts (who becomes a peer),
// read-path.ts and outbox.ts (messages in, replies out), sweep.ts (timeouts) and
// shutdown.ts (the drain).

import { lines } from "../codecs/lines.js";
import type { Framing } from "../codecs/types.js";
import { EchoplexError, type ErrorCode } from "../errors.js";
import type { FaultRegistry } from "../faults/registry.js";
import type { Address } from "./address.js";
import { Admission } from "./admission.js";
import type { Connection, PeerInfo } from "./connection.js";
import type { EngineContext } from "./context.js";
import type { LatencyRecorder, ListenInfo, ServerOptions } from "./contract.js";
import { type DoorSettings, listenerFor } from "./doors.js";
import { attachFaults } from "./fault-hook.js";
import { type Limits, resolveLimits } from "./limits.js";
import { type Logger, silentLogger } from "./logger.js";
import { ReadPath } from "./read-path.js";
import type { Service, ServiceCounters, ServiceDescription } from "./service.js";
import { runShutdown } from "./shutdown.js";
import { ServerStats, type ServiceMetric } from "./stats.js";
import { Sweep } from "./sweep.js";
import type { Listener } from "./transport.js";

export type { Handler, LatencyRecorder, ListenInfo, ServerOptions } from "./contract.js";

/** The connection engine. Create it with createServer(). */
export class EchoplexServer<S = undefined> implements Service {
  readonly service: string;
  readonly framing: Framing;
  readonly limits: Limits;
  readonly logger: Logger;
  /** Every live connection by id: the peer registry. */
  readonly connections = new Map<number, Connection<S>>();
  readonly tls: boolean;
  readonly proxyProtocol: boolean;
  /** Faults injected into replies (--fault, the admin API); undefined: none. */
  readonly faults: FaultRegistry | undefined;

  /** The engine's own record; read through stats(). */
  private readonly record = new ServerStats();
  private readonly summary: string;
  private readonly ctx: EngineContext<S>;
  private readonly admission: Admission<S>;
  private readonly engine: ReadPath<S>;
  private readonly sweep: Sweep<S>;
  private shutdownPromise: Promise<void> | undefined;
  private readonly doorSettings: DoorSettings;
  /** The server's doors, in the order listen() opened them. */
  private readonly listeners: Listener[] = [];
  private readonly listening: ListenInfo[] = [];

  constructor(options: ServerOptions<S>) {
    this.service = options.service ?? "custom";
    this.framing = options.framing ?? lines();
    this.limits = resolveLimits(options.limits);
    this.logger = (options.logger ?? silentLogger()).child({ service: this.service });
    this.tls = options.tls !== undefined;
    this.proxyProtocol = options.proxyProtocol === true;
    this.summary = options.summary ?? this.framing.name;
    this.faults = options.faults;
    this.ctx = {
      service: this.service,
      framing: this.framing,
      handler: options.handler,
      limits: this.limits,
      logger: this.logger,
      stats: this.record,
      tls: this.tls,
      proxyProtocol: this.proxyProtocol,
      connections: this.connections,
      faults: this.faults,
      draining: false,
    };
    // Faults added at run time to a service started without any reach its live connections too.
    this.faults?.onActivate(() => {
      for (const conn of this.connections.values()) attachFaults(this.ctx, conn);
    });
    this.doorSettings = {
      service: this.service,
      tls: options.tls,
      proxyProtocol: this.proxyProtocol,
      framing: this.framing,
      limits: this.limits,
      stats: this.record,
      logger: this.logger,
      unixMode: options.unixMode,
      udpIdleMs: options.udpIdleMs,
      wsMaxMessageBytes: options.wsMaxMessageBytes,
      wsPingMs: options.wsPingMs,
      wsOrigins: options.wsOrigins,
      wsPage: options.wsPage,
    };
    this.engine = new ReadPath(this.ctx, (conn) => this.admission.release(conn));
    this.admission = new Admission(this.ctx, (arrival) => this.engine.open(arrival));
    this.sweep = new Sweep(this.ctx, this.engine);
  }

  /** Where the server listens (its first door), once listen() resolved. */
  get address(): ListenInfo | undefined {
    return this.listening[0];
  }

  /** Every door the server listens on, in the order they were opened. */
  get addresses(): readonly ListenInfo[] {
    return this.listening;
  }

  /** The service's own metrics (Handler.metrics). */
  get metrics(): readonly ServiceMetric[] {
    return this.ctx.handler.metrics ?? [];
  }

  /** Counters since start: the live connections' traffic is added up now. */
  stats(): ServiceCounters {
    const r = this.record;
    return {
      connectionsActive: this.connections.size,
      connectionsOpened: r.connectionsOpened,
      rejected: r.rejected,
      errors: r.errors,
      backpressurePauses: r.backpressurePauses,
      tlsHandshakeFailures: r.tlsHandshakeFailures,
      activeByTransport: countByTransport(this.connections.values()),
      openedByTransport: r.openedByTransport,
      ...r.totals(this.connections.values()),
    };
  }

  /**
   * Counts an error the service itself met (a failed write, a broker's error) with the
   * engine's, so that `/metrics` and `/api/stats` show it under its code.
   */
  countError(code: ErrorCode): void {
    this.record.countError(code);
  }

  describe(): ServiceDescription {
    return { name: this.service, framing: this.framing.name, tls: this.tls, summary: this.summary };
  }

  /** A snapshot of the live connections (the oldest `limit`), with the service's details (Handler.describe). */
  peers(limit = Number.POSITIVE_INFINITY): PeerInfo[] {
    const out: PeerInfo[] = [];
    const handler = this.ctx.handler;
    const describe = handler.describe;
    for (const conn of this.connections.values()) {
      if (out.length >= limit) break;
      out.push(conn.info(describe === undefined ? undefined : describe.call(handler, conn)));
    }
    return out;
  }

  /**
   * Samples request-to-reply latency: 1 read in `every` (and the first) is timed from
   * the chunk's arrival to the write of the replies it caused, also when a promise
   * produces them later. Costs one branch per read while nobody observes.
   */
  observeLatency(record: LatencyRecorder, every = 16): void {
    this.engine.observeLatency(record, every);
  }

  /** True from the start of shutdown on. */
  get draining(): boolean {
    return this.shutdownPromise !== undefined;
  }

  /**
   * Starts listening. `address` takes the forms `8080`, `:8080`, `127.0.0.1:8080`,
   * `[::1]:8080`, `localhost:8080`, `tcp://…`, `tls://…`, `unix:/path`, `unix:@name`,
   * `udp://…`, `ws://host:port/path`, `wss://…`; port 0 picks a free port (see the
   * result). Pass a Listener to open a door of a transport of your own. Give several
   * addresses (or call it again) to open more doors: every door feeds the same
   * registry, limits, metrics and shutdown. Resolves with the first door; all of them
   * are in `addresses`.
   */
  async listen(...addresses: Array<string | number | Address | Listener>): Promise<ListenInfo> {
    const opened: ListenInfo[] = [];
    // Doors open in order; if one fails, those before it stay open (shutdown() closes them).
    for (const address of addresses.length === 0 ? [0] : addresses) opened.push(await this.openDoor(address));
    return opened[0]!;
  }

  private async openDoor(address: string | number | Address | Listener): Promise<ListenInfo> {
    if (this.draining) throw new EchoplexError("ERR_BAD_OPTION", "listen() after shutdown()");
    const listener = isListener(address) ? address : listenerFor(address, this.doorSettings);
    const bound = await listener.open(this.admission);
    this.listeners.push(listener);
    const info: ListenInfo = { ...bound, tls: listener.transport === "tls", transport: listener.transport };
    this.listening.push(info);
    this.sweep.start();
    this.logger.info(
      { address: bound.display, transport: info.transport, framing: this.framing.name, tls: info.tls },
      "listening",
    );
    return info;
  }

  /**
   * Graceful shutdown: stop accepting; answer what was already received; send each
   * peer the service's notice; wait for replies to flush; force-close whatever is
   * left after `drainTimeoutMs`. Safe to call more than once.
   */
  shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.ctx.draining = true;
      const parts = {
        ctx: this.ctx,
        admission: this.admission,
        engine: this.engine,
        sweep: this.sweep,
        listeners: this.listeners,
      };
      this.shutdownPromise = runShutdown(parts, options.drainTimeoutMs ?? this.limits.drainTimeoutMs);
    }
    return this.shutdownPromise;
  }
}

function countByTransport(connections: Iterable<Connection<unknown>>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const conn of connections) counts.set(conn.transport, (counts.get(conn.transport) ?? 0) + 1);
  return counts;
}

function isListener(value: unknown): value is Listener {
  return (
    typeof value === "object" && value !== null && typeof (value as Partial<Listener>).open === "function"
  );
}

/** Creates a server around a handler. Call listen() to start it. */
export function createServer<S = undefined>(options: ServerOptions<S>): EchoplexServer<S> {
  return new EchoplexServer<S>(options);
}

export type { ErrorCode };
