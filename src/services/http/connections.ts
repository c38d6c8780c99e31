// The responder's connections: admission (the 503 over --max-connections), the peer
// registry and each socket's hooks into node:http, what the admin endpoint reads of
// them (counters, peers), and the log line of a lingering close's end.

import type { Socket } from "node:net";
import { coarseClock } from "../../core/clock.js";
import type { PeerInfo } from "../../core/connection.js";
import type { Logger } from "../../core/logger.js";
import type { ServiceCounters } from "../../core/service.js";
import { everyTick, type TickTask } from "../../core/ticker.js";
import type { TransportKind } from "../../core/transport.js";
import type { WarnThrottle } from "../../core/warn-throttle.js";
import type { FaultKind } from "../../faults/parse.js";
import type { FaultRegistry } from "../../faults/registry.js";
import { faultSocket } from "../../faults/socket.js";
import { sendErrorAnswer } from "./client-error.js";
import { lastAnswerCloses } from "./half-close.js";
import type { LingerEnd, Lingerer } from "./linger.js";
import { attachPeer, type HttpPeer, type HttpStats, peerOf } from "./peer.js";
import type { HttpSettings } from "./settings.js";

/** Sockets already given their faults. */
const faulted = new WeakSet<Socket>();

/** How often the coarse clock (the per-request stamps read it) is ticked while listening. */
const CLOCK_TICK_MS = 250;

export interface ConnectionsContext {
  settings: HttpSettings;
  stats: HttpStats;
  logger: Logger;
  warnings: WarnThrottle;
  tls: boolean;
  /** The door's transport: tcp, tls, or unix (set by listen()). */
  transport: TransportKind;
  /** A connection closed: the drain may be done. */
  closed(): void;
  /** Faults injected into answers (--fault); undefined: none. */
  faults?: FaultRegistry | undefined;
}

export class HttpConnections {
  /** Every connected client by id. */
  readonly registry = new Map<number, HttpPeer>();
  private nextId = 1;
  private clock: TickTask | undefined;

  constructor(
    private readonly ctx: ConnectionsContext,
    private readonly lingering: Lingerer,
  ) {}

  /** While listening, the shared ticker keeps the coarse clock current. */
  startClock(): void {
    this.clock ??= everyTick(CLOCK_TICK_MS, noop);
  }

  stopClock(): void {
    this.clock?.stop();
    this.clock = undefined;
  }

  accept(socket: Socket): void {
    const { settings, stats, logger } = this.ctx;
    const { lingering } = this;
    if (this.registry.size >= settings.maxConnections) {
      stats.count(stats.rejected, "max_connections");
      this.ctx.warnings.warn("max_connections", {
        code: "ERR_TOO_MANY_CONNECTIONS",
        err: `too many connections (limit ${settings.maxConnections}), answering 503`,
      });
      // Answered here and taken from node's parser: this client gets no request handling.
      const body = `too many connections (limit ${settings.maxConnections})\n`;
      lingering.close(
        socket,
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const now = coarseClock.now;
    const peer: HttpPeer = {
      id: this.nextId++,
      // A Unix socket's peer has no address.
      remoteAddress: socket.remoteAddress ?? (this.ctx.transport === "unix" ? "unix" : "unknown"),
      remotePort: socket.remotePort ?? 0,
      tls: this.ctx.tls,
      connectedAt: now,
      lastActivity: now,
      requests: 0,
      responses: 0,
      inflight: 0,
      unanswered: 0,
      held: false,
      last: undefined,
      errorAnswer: undefined,
      socket,
    };
    attachPeer(socket, peer);
    if (this.ctx.faults?.active) this.attachFaults(socket, peer.id);
    // node:http ends a connection after its last answer (`Connection: close`) with
    // destroySoon(): end, then destroy once flushed, which resets a peer that is still
    // sending. The responder closes it with a lingering close instead, after the client
    // error waiting its turn if there is one (the client's FIN made this answer the last).
    socket.destroySoon = () =>
      peer.errorAnswer === undefined
        ? lingering.close(socket)
        : sendErrorAnswer(peer, lingering, socket.readableEnded);
    socket.on("end", () => lastAnswerCloses(peer.last));
    // node:http resumes reading on its own (its drain handling, a request body being read):
    // a connection held at --max-pipeline stays paused.
    socket.on("resume", onHeldResume);
    this.registry.set(peer.id, peer);
    stats.connectionsOpened++;
    logger.debug({ conn: peer.id, remote: peer.remoteAddress, port: peer.remotePort }, "connect");
    socket.once("close", () => this.retire(peer));
  }

  /** Every open connection drawn for the faults gets them (the first fault just arrived). */
  attachFaultsToAll(): void {
    for (const peer of this.registry.values()) this.attachFaults(peer.socket, peer.id);
  }

  private attachFaults(socket: Socket, id: number): void {
    const registry = this.ctx.faults;
    if (registry === undefined || faulted.has(socket) || !registry.draw()) return;
    faulted.add(socket);
    const { logger } = this.ctx;
    const hooks = {
      applied(kind: FaultKind) {
        registry.count(kind);
        logger.debug({ conn: id, fault: kind }, "fault applied");
      },
      // node:http holds a client at --max-pipeline itself: answers waiting here are bounded by it.
      hold: noop,
      release: noop,
    };
    faultSocket(socket, registry, hooks, Number.POSITIVE_INFINITY);
  }

  private retire(peer: HttpPeer): void {
    const { socket } = peer;
    this.registry.delete(peer.id);
    const { retired } = this.ctx.stats;
    retired.bytesIn += socket.bytesRead;
    retired.bytesOut += socket.bytesWritten;
    retired.messagesIn += peer.requests;
    retired.messagesOut += peer.responses;
    this.ctx.logger.debug(
      {
        conn: peer.id,
        remote: peer.remoteAddress,
        requests: peer.requests,
        durationMs: Date.now() - peer.connectedAt,
      },
      "disconnect",
    );
    this.ctx.closed();
  }

  /** A lingering close ended: a client that did not read its last answer is a slow consumer. */
  lingerEnded(socket: Socket, how: LingerEnd, bytes: number): void {
    const peer = peerOf(socket);
    if (how === "unsent") {
      this.ctx.stats.count(this.ctx.stats.errors, "ERR_SLOW_CONSUMER");
      this.ctx.logger.warn(
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
    this.ctx.logger.debug(
      { conn: peer?.id, remote: socket.remoteAddress, discardedBytes: bytes, how },
      how === "time"
        ? "lingering close cut off: the peer kept sending after its last answer"
        : "lingering close done",
    );
  }

  counters(): ServiceCounters {
    const { stats } = this.ctx;
    const t = { ...stats.retired };
    for (const peer of this.registry.values()) {
      t.bytesIn += peer.socket.bytesRead;
      t.bytesOut += peer.socket.bytesWritten;
      t.messagesIn += peer.requests;
      t.messagesOut += peer.responses;
    }
    return {
      ...t,
      connectionsActive: this.registry.size,
      connectionsOpened: stats.connectionsOpened,
      rejected: stats.rejected,
      errors: stats.errors,
      backpressurePauses: stats.pipelinePauses,
      tlsHandshakeFailures: stats.tlsHandshakeFailures,
      // One door, TCP or TLS.
      activeByTransport: new Map([[this.ctx.transport, this.registry.size]]),
      openedByTransport: new Map([[this.ctx.transport, stats.connectionsOpened]]),
    };
  }

  /** The oldest `limit` clients, as /api/peers lists them. */
  peers(service: string, limit: number): PeerInfo[] {
    const out: PeerInfo[] = [];
    const now = Date.now();
    for (const peer of this.registry.values()) {
      if (out.length >= limit) break;
      out.push({
        id: peer.id,
        service,
        remoteAddress: peer.remoteAddress,
        remotePort: peer.remotePort,
        tls: peer.tls,
        transport: this.ctx.transport,
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
}

/**
 * node:http resumed a socket on its own: keep it paused while its peer is held at
 * --max-pipeline, or waits to be answered a client error.
 */
function onHeldResume(this: Socket): void {
  const peer = peerOf(this);
  if (peer !== undefined && (peer.held || peer.errorAnswer !== undefined)) this.pause();
}

function noop(): void {}
