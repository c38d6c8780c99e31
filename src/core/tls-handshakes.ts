// Shared by every TLS listener (the engine and the HTTP responder): sockets in their
// TLS handshake are tracked (so shutdown can drop them and limits can count them),
// a failed handshake is routine: counted, logged at debug level, then closed; and a
// peer that tries to renegotiate is refused: counted, logged at warn level, closed.
import type { Socket } from "node:net";
import type { TLSSocket, Server as TlsServer } from "node:tls";
import type { ErrorCode } from "../errors.js";
import type { Logger } from "./logger.js";

interface HandshakeHooks {
  /** False while the server no longer accepts: the raw socket is destroyed at once. */
  accepting(): boolean;
  /** A handshake completed: the socket is the caller's from now on. */
  secured(socket: TLSSocket): void;
  /** Where failed handshakes and refused renegotiations (ERR_TLS_RENEGOTIATION) are counted. */
  stats: { tlsHandshakeFailures: number; readonly errors: Map<string, number> };
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
    refuseRenegotiation(socket, hooks);
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

/**
 * Node's own guard lets a client renegotiate 3 times per 10 minutes and then only emits
 * an error that closes nothing, so each renegotiation makes the server redo the costly
 * side of a handshake for free (CPU exhaustion) and, on a server that asks for client
 * certificates, could mix two identities in one stream. TLS 1.3 has no renegotiation
 * (its KeyUpdate is unaffected); on TLS 1.2 the first attempt now ends the connection.
 */
function refuseRenegotiation(socket: TLSSocket, hooks: HandshakeHooks): void {
  socket.disableRenegotiation();
  // First in line: node:http's own error listener would otherwise answer it with a 400
  // over a connection in the middle of a handshake.
  socket.prependListener("error", (err: NodeJS.ErrnoException) => {
    if (!isRenegotiationError(err)) return;
    const code: ErrorCode = "ERR_TLS_RENEGOTIATION";
    const { errors } = hooks.stats;
    errors.set(code, (errors.get(code) ?? 0) + 1);
    hooks.logger.warn(
      { remote: socket.remoteAddress, port: socket.remotePort, code, err: err.code },
      "TLS renegotiation refused, closing",
    );
    // In the middle of a handshake we no longer want, no reply could be delivered
    // reliably anyway: dropped at once rather than drained.
    socket.destroy();
  });
}

/** The errors node:tls raises for a client's renegotiation (refused, or over its own limit). */
export function isRenegotiationError(err: NodeJS.ErrnoException): boolean {
  return err.code === "ERR_TLS_RENEGOTIATION_DISABLED" || err.code === "ERR_TLS_SESSION_ATTACK";
}

function noop(): void {}
