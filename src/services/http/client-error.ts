// The last answer on a connection node:http gave up on (a malformed request, headers
// too large, a request timeout), and when it may leave: answers go out in request order
// (RFC 9112 §9.3.2), so requests received whole before the bad one are answered first.
import type { Socket } from "node:net";
import type { Logger } from "../../core/logger.js";
import { isRenegotiationError } from "../../core/tls-handshakes.js";
import type { Lingerer } from "./linger.js";
import { type ErrorAnswerPeer, type HttpStats, type LastRequest, peerOf } from "./peer.js";

interface ClientErrorAnswer {
  status: number;
  /** The whole response, head and body, written to the socket as is. */
  response: string;
}

/**
 * The answer to a client error `code` (node's `HPE_…`, or `ERR_HTTP_REQUEST_TIMEOUT`).
 * `HPE_INVALID_EOF_STATE`: the client's FIN cut a request short (its headers or body);
 * the client may still be reading, and a 400 tells it why it gets no answer.
 */
export function clientErrorAnswer(code: string): ClientErrorAnswer {
  const [status, reason, message] =
    code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Request Timeout", "request not received in time (--headers-timeout / --request-timeout)"]
      : code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", "request headers too large"]
        : code === "HPE_INVALID_EOF_STATE"
          ? [400, "Bad Request", `incomplete request: the client ended its side mid-request (${code})`]
          : [400, "Bad Request", `malformed request (${code})`];
  const text = `${message}\n`;
  return {
    status,
    response: `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  };
}

/**
 * Of a connection's `unanswered` requests, how many will never be answered once its
 * input is broken: the last one, if the error cut it short (its body, or the rest of it,
 * will not come) and nothing answered it already (a 413 may have). Only the last can
 * be cut short: requests arrive one after the other.
 */
export function unanswerable(last: LastRequest | undefined): number {
  if (last === undefined) return 0;
  return last.req.complete || last.res.writableEnded ? 0 : 1;
}

/**
 * Holds `response` until the answers owed before it have left (the caller then calls
 * sendErrorAnswer, as does the socket's destroySoon() if the client's FIN made the
 * last of them the connection's last), and stops reading meanwhile: what follows the
 * bad input is not parsed, and a client that keeps sending waits in TCP buffers.
 */
export function deferErrorAnswer(peer: ErrorAnswerPeer, response: string, after: number): void {
  peer.errorAnswer = { response, after };
  peer.socket.pause();
}

/** Sends the waiting error answer, then the lingering close; `ended`: the client's input is over. */
export function sendErrorAnswer(peer: ErrorAnswerPeer, lingering: Lingerer, ended: boolean): void {
  const error = peer.errorAnswer;
  if (error === undefined) return;
  peer.errorAnswer = undefined;
  peer.held = false; // the lingering close reads (and discards) from here on
  if (ended) lingering.close(peer.socket, error.response);
  else afterResume(peer.socket, () => lingering.close(peer.socket, error.response));
}

/**
 * Runs `then` once `socket`, paused, reads again. node:http restarts a socket it reads
 * natively from its own 'resume' listener, and drops that listener when another reader
 * (the lingering close) takes the socket over: handed over before that restart, the
 * socket would never read again, and the client's close would go unseen.
 */
function afterResume(socket: Socket, then: () => void): void {
  if (!socket.isPaused()) {
    then();
    return;
  }
  socket.once("resume", then);
  socket.resume();
}

/**
 * node:http's 'clientError' (a malformed request, a slow client's header or request
 * timeout): counted and logged, then answered with its status once the answers owed
 * before it have left, and the connection closed with a lingering close.
 */
export function onClientError(
  err: NodeJS.ErrnoException,
  socket: Socket,
  ctx: { stats: HttpStats; logger: Logger; lingering: Lingerer },
): void {
  // Already answered and closing: node's parser reports the same bad stream again as
  // more of it arrives (or ends); the connection was counted and answered once.
  const peer = peerOf(socket);
  if (ctx.lingering.has(socket) || peer?.errorAnswer !== undefined) return;
  // Counted, logged and closed where TLS sockets are set up (trackTlsHandshakes).
  if (isRenegotiationError(err)) return;
  const code = err.code ?? "ERR_HTTP_CLIENT";
  ctx.stats.count(ctx.stats.errors, code);
  if (code === "ECONNRESET" || code === "EPIPE" || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, response } = clientErrorAnswer(code);
  const after = unanswerable(peer?.last);
  const owed = peer === undefined ? 0 : peer.unanswered - after;
  ctx.logger.info(
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
  ctx.lingering.close(socket, response);
}
