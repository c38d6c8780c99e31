// Admission: who becomes a peer. Owns the listener, the sockets not yet admitted (in
// their TLS handshake or still sending their PROXY header), the connection and per-IP
// counts, and the refusal of those over a limit with a framed error and a lingering close.
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import {
  createServer as createTlsServer,
  type TLSSocket,
  type TlsOptions,
  type Server as TlsServer,
} from "node:tls";
import { EchoplexError } from "../errors.js";
import type { Connection } from "./connection.js";
import { type EngineContext, errorNotice } from "./context.js";
import { lingerClose } from "./linger.js";
import { awaitProxyHeader, type HandshakeOutcome } from "./proxy-handshake.js";
import { withTlsDefaults } from "./tls.js";
import { trackTlsHandshakes } from "./tls-handshakes.js";
import { WarnThrottle } from "./warn-throttle.js";

/** Admits a socket as a peer from this address (the client's behind a PROXY header). */
export type Admit = (
  socket: Socket,
  remoteAddress: string,
  remotePort: number,
  early: Buffer | undefined,
) => void;

export class Admission<S> {
  readonly server: NetServer;
  /**
   * With the PROXY protocol over TLS: the TLS server that never listens itself. Each
   * socket is handed to it once its PROXY header is read, so the header never reaches
   * the TLS layer and the handshake still gets every server option (client certs, SNI).
   */
  private readonly tlsAfterProxy: TlsServer | undefined;
  /** Raw sockets handed to `tlsAfterProxy`, with the client address their PROXY header gave. */
  private readonly proxiedPeers = new WeakMap<Socket, { address: string; port: number }>();
  private readonly perIp = new Map<string, number>();
  /**
   * Sockets that are not peers yet: in their TLS handshake, or still sending their
   * PROXY header. They count against maxConnections and are dropped at shutdown.
   */
  readonly handshaking = new Set<Socket>();
  accepting = true;
  /** Connections accepted or refused so far (shutdown watches it to drain the backlog). */
  acceptCount = 0;
  private readonly warnings: WarnThrottle;

  constructor(
    private readonly ctx: EngineContext<S>,
    tls: TlsOptions | undefined,
    private readonly admitted: Admit,
  ) {
    this.warnings = new WarnThrottle(ctx.logger);
    const accept = (socket: Socket) => this.accept(socket);
    if (tls !== undefined) {
      const server = createTlsServer({ ...withTlsDefaults(tls), allowHalfOpen: true });
      trackTlsHandshakes(server, this.handshaking, {
        accepting: () => this.accepting,
        secured: (socket) => this.secured(socket),
        stats: ctx.stats,
        logger: ctx.logger,
      });
      // The PROXY header precedes the TLS handshake: node:tls would take it for a ClientHello.
      this.tlsAfterProxy = ctx.proxyProtocol ? server : undefined;
      this.server = ctx.proxyProtocol
        ? createNetServer({ allowHalfOpen: true, noDelay: true }, accept)
        : server;
    } else {
      this.server = createNetServer({ allowHalfOpen: true, noDelay: true }, accept);
    }
  }

  private accept(socket: Socket): void {
    this.acceptCount++;
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const { limits, connections } = this.ctx;
    if (connections.size + this.handshaking.size >= limits.maxConnections) {
      this.reject(
        socket,
        "max_connections",
        new EchoplexError(
          "ERR_TOO_MANY_CONNECTIONS",
          `too many connections (limit ${limits.maxConnections})`,
        ),
      );
      return;
    }
    if (this.ctx.proxyProtocol) {
      this.handshaking.add(socket);
      awaitProxyHeader(socket, limits.proxyHeaderTimeoutMs, (outcome) =>
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

  /** The per-IP check, then the engine takes the socket as a peer. */
  private admit(socket: Socket, remoteAddress: string, remotePort: number, early: Buffer | undefined): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const perIpLimit = this.ctx.limits.maxConnectionsPerIp;
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
    this.admitted(socket, remoteAddress, remotePort, early);
  }

  /** A peer is gone: it no longer counts against its address's limit. */
  release(conn: Connection<S>): void {
    if (this.ctx.limits.maxConnectionsPerIp === 0) return;
    const count = (this.perIp.get(conn.remoteAddress) ?? 1) - 1;
    if (count <= 0) this.perIp.delete(conn.remoteAddress);
    else this.perIp.set(conn.remoteAddress, count);
  }

  /** Refuses a connection with a framed error message, then closes it. */
  private reject(socket: Socket, reason: string, err: EchoplexError): void {
    const { stats, framing, limits } = this.ctx;
    stats.countRejected(reason);
    stats.countError(err.code);
    this.warnings.warn(reason, { remote: socket.remoteAddress, code: err.code, err: err.message });
    const out: Buffer[] = [];
    const notice = errorNotice(this.ctx, err);
    if (notice !== undefined) {
      framing.create(() => {}).encode(out, typeof notice === "string" ? Buffer.from(notice) : notice);
    }
    lingerClose(socket, out.length > 0 ? Buffer.concat(out) : undefined, {
      lingerMs: limits.lingerMs,
      flushMs: limits.idleTimeoutMs,
    });
  }

  /** Drops the sockets not admitted yet (shutdown). */
  dropHandshakes(): void {
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
  }

  /** An accept error (EMFILE under a connection storm): logged, throttled, survived. */
  warnAccept(err: NodeJS.ErrnoException): void {
    this.warnings.warn("accept", { code: err.code, err: err.message });
  }
}
