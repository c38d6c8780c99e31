// The stream doors: a TCP or Unix socket listener, with TLS and the PROXY protocol
// when asked. Each accepted socket becomes an Arrival: after the PROXY header (whose
// client address it then carries) and after the TLS handshake.
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { TLSSocket, TlsOptions, Server as TlsServer } from "node:tls";
import type { Address } from "../address.js";
import { type BoundAddress, bindServer, bindUnixServer } from "../listen.js";
import type { Logger } from "../logger.js";
import { awaitProxyHeader, type HandshakeOutcome } from "../proxy-handshake.js";
import { trackTlsHandshakes } from "../tls-handshakes.js";
import type { Gate, Listener, TransportKind } from "../transport.js";

export interface StreamListenerOptions {
  /** A TCP address, or the path of a Unix socket. */
  address: Address | { path: string };
  /** File mode of a Unix socket (e.g. 0o660). Default: as the umask leaves it. */
  unixMode?: number | undefined;
  /** Serve TLS with these options. */
  tls?: TlsOptions | undefined;
  /** Expect a PROXY protocol header first (HAProxy, a load balancer). */
  proxyProtocol?: boolean;
  /** How long a PROXY header may take to arrive. */
  proxyHeaderTimeoutMs: number;
  /** Where failed TLS handshakes and refused renegotiations are counted. */
  stats: { tlsHandshakeFailures: number; readonly errors: Map<string, number> };
  logger: Logger;
}

export class StreamListener implements Listener {
  readonly transport: TransportKind;
  acceptCount = 0;
  private server: NetServer | undefined;
  /**
   * With the PROXY protocol over TLS: the TLS server that never listens itself. Each
   * socket is handed to it once its PROXY header is read, so the header never reaches
   * the TLS layer and the handshake still gets every server option (client certs, SNI).
   */
  private tlsAfterProxy: TlsServer | undefined;
  /** Raw sockets handed to `tlsAfterProxy`, with the client address their PROXY header gave. */
  private readonly proxiedPeers = new WeakMap<Socket, { address: string; port: number }>();

  constructor(private readonly options: StreamListenerOptions) {
    this.transport = "path" in options.address ? "unix" : options.tls === undefined ? "tcp" : "tls";
  }

  async open(gate: Gate): Promise<BoundAddress> {
    const { tls, proxyProtocol } = this.options;
    const accept = (socket: Socket) => this.accept(gate, socket);
    let server: NetServer;
    if (tls !== undefined) {
      // node:tls (and OpenSSL's state with it) is loaded only by a TLS door: about 3 MiB
      // of RSS that a plain TCP server does not pay.
      const [{ createServer: createTlsServer }, { withTlsDefaults }] = await Promise.all([
        import("node:tls"),
        import("../tls.js"),
      ]);
      const tlsServer = createTlsServer({ ...withTlsDefaults(tls), allowHalfOpen: true });
      trackTlsHandshakes(tlsServer, gate.handshaking as Set<Socket>, {
        accepting: () => gate.accepting,
        secured: (socket) => this.secured(gate, socket),
        stats: this.options.stats,
        logger: this.options.logger,
      });
      // The PROXY header precedes the TLS handshake: node:tls would take it for a ClientHello.
      this.tlsAfterProxy = proxyProtocol === true ? tlsServer : undefined;
      server =
        proxyProtocol === true ? createNetServer({ allowHalfOpen: true, noDelay: true }, accept) : tlsServer;
    } else {
      server = createNetServer({ allowHalfOpen: true, noDelay: true }, accept);
    }
    this.server = server;
    const { address } = this.options;
    const onAcceptError = (err: NodeJS.ErrnoException) => gate.acceptFailed(err);
    return "path" in address
      ? bindUnixServer(server, address.path, this.options.unixMode, onAcceptError)
      : bindServer(server, address, onAcceptError);
  }

  close(): Promise<void> {
    const server = this.server;
    return new Promise((resolve) => {
      if (server === undefined || !server.listening) resolve();
      else server.close(() => resolve());
    });
  }

  private accept(gate: Gate, socket: Socket): void {
    this.acceptCount++;
    if (!gate.accepting) {
      socket.destroy();
      return;
    }
    if (!gate.roomFor(socket, socket.remoteAddress)) return;
    if (this.options.proxyProtocol === true) {
      gate.handshaking.add(socket);
      awaitProxyHeader(socket, this.options.proxyHeaderTimeoutMs, (outcome) =>
        this.proxyHandshakeDone(gate, socket, outcome),
      );
      return;
    }
    // A Unix socket's peer has no address: its peers are all "unix" (one per-IP bucket).
    const remote = socket.remoteAddress ?? (this.transport === "unix" ? "unix" : "unknown");
    this.arrived(gate, socket, remote, socket.remotePort ?? 0, undefined);
  }

  private proxyHandshakeDone(gate: Gate, socket: Socket, outcome: HandshakeOutcome): void {
    gate.handshaking.delete(socket);
    if (outcome.kind === "gone") {
      socket.destroy();
      return;
    }
    if (outcome.kind === "refused") {
      gate.refuse(socket, socket.remoteAddress, "proxy_protocol", outcome.error);
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
    this.arrived(gate, socket, address, port, rest);
    socket.resume();
  }

  /** A TLS handshake completed: a new peer, or (behind a PROXY header) one accepted already. */
  private secured(gate: Gate, socket: TLSSocket): void {
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const proxied = raw === undefined ? undefined : this.proxiedPeers.get(raw);
    if (proxied === undefined) this.accept(gate, socket);
    else this.arrived(gate, socket, proxied.address, proxied.port, undefined);
  }

  private arrived(
    gate: Gate,
    socket: Socket,
    remoteAddress: string,
    remotePort: number,
    early: Buffer | undefined,
  ): void {
    socket.setNoDelay(true);
    gate.admit({
      stream: socket,
      transport: this.transport,
      remoteAddress,
      remotePort,
      secure: this.options.tls !== undefined,
      ...(early === undefined || early.length === 0 ? {} : { early }),
    });
  }
}
