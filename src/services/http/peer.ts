// What the HTTP responder knows of each connected client (HttpPeer, found from its
// socket) and its counters since start (HttpStats).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { TrafficTotals } from "../../core/stats.js";

/** The request received last on a connection, with its answer. */
export interface LastRequest {
  req: IncomingMessage;
  res: ServerResponse;
}

/** What of a connection a waiting error answer needs (HttpPeer has it). */
export interface ErrorAnswerPeer {
  /** Leaves once no more than `after` requests are unanswered. */
  errorAnswer: { response: string; after: number } | undefined;
  held: boolean;
  readonly socket: Socket;
}

/** One connected client, as the peer registry lists it. */
export interface HttpPeer extends ErrorAnswerPeer {
  id: number;
  remoteAddress: string;
  remotePort: number;
  tls: boolean;
  connectedAt: number;
  /** When a request last arrived or an answer last left. */
  lastActivity: number;
  requests: number;
  /** Answers written (any status). */
  responses: number;
  /** Requests received and not answered yet (waiting for their delay). */
  inflight: number;
  /** Requests received whose answer has not left yet (handed to the socket, or the socket gone). */
  unanswered: number;
  /** Reading stopped: `unanswered` reached `maxPipeline`. */
  held: boolean;
  /** The request received last, until its answer leaves. */
  last: LastRequest | undefined;
  readonly socket: Socket;
}

export class HttpStats {
  connectionsOpened = 0;
  requests = 0;
  tlsHandshakeFailures = 0;
  /** Clients whose connection broke before their delayed answer (a FIN alone is answered). */
  abandoned = 0;
  /** Times reading from a connection stopped because it had `maxPipeline` requests unanswered. */
  pipelinePauses = 0;
  readonly responses = new Map<number, number>();
  readonly rejected = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** Traffic of connections that have closed (bytes on the socket; messages = requests and answers). */
  readonly retired: TrafficTotals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

const kPeer = Symbol("echoplex.httpPeer");
type PeerSocket = Socket & { [kPeer]?: HttpPeer };

/** The peer a socket belongs to; undefined for a connection refused at accept. */
export function peerOf(socket: Socket): HttpPeer | undefined {
  return (socket as PeerSocket)[kPeer];
}

export function attachPeer(socket: Socket, peer: HttpPeer): void {
  (socket as PeerSocket)[kPeer] = peer;
}
