// A client may half-close: send its requests, then its FIN, and read the answers
// (`printf … | nc -N`, a TLS client's end()). node:http's default on the FIN is to end
// the connection at once, and the answers still waiting for their delay are lost.
import type { Server } from "node:http";
import type { LastRequest } from "./peer.js";

/**
 * Makes `server` answer the requests it received before a client's FIN, then close.
 * The server's sockets must allow half-open connections too (node:http's do; node:https
 * needs `allowHalfOpen: true`, or the TLS socket ends its side with the client's).
 */
export function answerAfterHalfClose(server: Server): void {
  // Undocumented but long-standing (socketOnEnd in node's lib/_http_server.js, the same
  // from Node 20 to 24): on the FIN, node marks the last answer owed as the connection's
  // last (its socket's destroySoon() follows it) instead of ending the socket now.
  // A request cut short by the FIN is a parse error, reported as a client error instead.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}

/**
 * On the client's FIN: the answer to its last request, if not begun yet, says
 * `Connection: close`, since the server closes after it. A request cut short by the FIN
 * gets no answer of its own (its client error answers it).
 */
export function lastAnswerCloses(last: LastRequest | undefined): void {
  if (last === undefined || !last.req.complete || last.res.headersSent) return;
  last.res.shouldKeepAlive = false;
}
