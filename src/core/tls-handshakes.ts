// Shared by every TLS listener (the engine and the HTTP responder): sockets in their
// TLS handshake are tracked (so shutdown can drop them and limits can count them),
// and a failed handshake is routine: counted, logged at debug level, then closed.
import type { Socket } from "node:net";
import type { TLSSocket, Server as TlsServer } from "node:tls";
import type { Logger } from "./logger.js";

export interface HandshakeHooks {
  /** False while the server no longer accepts: the raw socket is destroyed at once. */
  accepting(): boolean;
  /** A handshake completed: the socket is the caller's from now on. */
  secured(socket: TLSSocket): void;
  /** Where failed handshakes are counted. */
  stats: { tlsHandshakeFailures: number };
  logger: Logger;
}

/** Wires `server`'s handshake events; `pending` holds the raw sockets still shaking hands. */
export function trackTlsHandshakes(server: TlsServer, pending: Set<Socket>, hooks: HandshakeHooks): void {
  server.on("connection", (socket: Socket) => {
    if (!hooks.accepting()) {
      socket.destroy();
      return;
    }
    pending.add(socket);
    socket.once("close", () => pending.delete(socket));
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    // The raw socket's entry goes; the TLS socket's own close is the caller's from now on.
    pending.delete((socket as TLSSocket & { _parent?: Socket })._parent ?? socket);
    hooks.secured(socket);
  });
  server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // A plain-text client, a refused client certificate or a stalled handshake:
    // routine, so a counter and a debug line, never an error.
    hooks.stats.tlsHandshakeFailures++;
    hooks.logger.debug(
      { remote: socket.remoteAddress, err: err.code ?? err.message },
      "TLS handshake failed",
    );
    // With a listener attached node leaves the socket open (a stalled handshake would
    // stay forever). end() lets a pending alert out first; destroy() follows regardless.
    socket.on("error", noop);
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

function noop(): void {}
