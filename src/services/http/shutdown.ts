// The responder's drain: stop accepting, close the idle keep-alive connections, answer
// every request already received (their delays run out), then close; at the drain
// timeout, reset what still owes answers. The waits and the cut-off are the engine's.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { closeListener, emptiedWithin } from "../../core/drain-wait.js";
import { cutOffAll } from "../../core/linger.js";
import type { Logger } from "../../core/logger.js";
import type { Lingerer } from "./linger.js";
import type { HttpPeer, HttpStats } from "./peer.js";
import type { RequestPath } from "./requests.js";

export interface DrainParts {
  server: Server;
  logger: Logger;
  stats: HttpStats;
  peers: ReadonlyMap<number, HttpPeer>;
  requests: RequestPath;
  lingering: Lingerer;
  /** Sockets still in their TLS handshake. */
  handshaking: Set<Socket>;
}

/**
 * Checks, as the drain goes, whether anything is still owed; keep-alive connections
 * that just finished their last answer are closed on the way.
 */
export class HttpDrain {
  private onIdle: (() => void) | undefined;

  constructor(private readonly parts: DrainParts) {}

  private get empty(): boolean {
    return this.parts.requests.pending.size === 0 && this.parts.peers.size === 0;
  }

  /** Something settled (an answer, a close); called only while draining. */
  check(): void {
    // The idle guard keeps connections whose answers are still in their sockets.
    this.parts.server.closeIdleConnections();
    if (this.empty) this.onIdle?.();
  }

  async run(drainTimeoutMs: number): Promise<void> {
    const { server, logger, peers, requests } = this.parts;
    const started = Date.now();
    logger.info(
      { connections: peers.size, inflight: requests.pending.size, drainTimeoutMs },
      "shutting down",
    );
    const closed = closeListener(server);
    const emptied = await emptiedWithin(
      {
        isEmpty: () => this.empty,
        whenEmpty: (done) => {
          this.onIdle = done;
          this.check();
        },
      },
      drainTimeoutMs,
    );
    if (!emptied) this.forceClose(drainTimeoutMs);
    for (const socket of this.parts.handshaking) socket.destroy();
    this.parts.handshaking.clear();
    await closed;
    logger.info({ durationMs: Date.now() - started }, "shut down");
  }

  private forceClose(drainTimeoutMs: number): void {
    const { server, logger, stats, peers, requests, lingering } = this.parts;
    requests.stopTimers();
    cutOffAll(
      peers.values(),
      (peer) => {
        const unsentBytes = peer.socket.writableLength;
        return {
          id: peer.id,
          remoteAddress: peer.remoteAddress,
          socket: peer.socket,
          unsentBytes,
          inflight: peer.inflight,
          clean: unsentBytes === 0 && peer.inflight === 0,
        };
      },
      {
        logger,
        drainTimeoutMs,
        countError: (code) => stats.count(stats.errors, code),
        replies: "answers",
        alsoDrop: () => lingering.destroyAll(),
        summary: { inflight: requests.pending.size },
      },
    );
    server.closeAllConnections();
    for (const peer of peers.values()) peer.socket.destroy();
  }
}
