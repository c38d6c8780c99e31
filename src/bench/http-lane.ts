// One connection of `bench http`: an HTTP/1.1 keep-alive client over a raw socket
// (TCP or TLS, as dial opens it) with one request in flight. The request's bytes are
// built once per run and written as they are; responses go through the project's
// parser; a connection the server closes is opened again when the next request goes.
import type { Duplex } from "node:stream";
import { EchoplexError } from "../errors.js";
import { HttpResponseParser, type ResponseSink } from "./http-parser.js";
import type { TcpTarget } from "./options.js";
import { closeHard, dial, errorKind } from "./transport.js";

/** What a lane reports to its run. */
export interface LaneOwner {
  /** The lane's request was answered; `lane.dueAt`, `lane.sentAt` and `lane.bodyHas` describe it. */
  answered(lane: HttpLane, status: number, bodyBytes: number): void;
  /** The lane's request failed (no connection, reset, closed before the answer, a bad reply). */
  failed(lane: HttpLane, err: unknown): void;
  /** Something went wrong while no request was in flight (an answer to nothing, bytes that are no answer): its kind. */
  stray(kind: string): void;
}

/** The text of a request: method, path, Host, and the body's length and bytes for POST. */
export function requestBytes(url: URL, method: "GET" | "POST", body: string): Buffer {
  // Keep-alive said aloud, as autocannon says it: HTTP/1.1 implies it, but some servers (and
  // node:http's fast path) treat the explicit header as the common case.
  const lines = [
    `${method} ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Connection: keep-alive",
  ];
  const payload = method === "POST" ? Buffer.from(body) : Buffer.alloc(0);
  if (method === "POST") lines.push("Content-Type: text/plain", `Content-Length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]);
}

/** Where a URL's requests go: host (without IPv6 brackets), port, TLS for https. */
export function urlTarget(
  url: URL,
  tls: Omit<NonNullable<TcpTarget["tls"]>, "insecure"> | undefined,
  insecure: boolean,
): TcpTarget {
  const secure = url.protocol === "https:";
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  return secure
    ? { transport: "tcp", host, port, tls: { ...tls, insecure } }
    : { transport: "tcp", host, port };
}

/** A connection closed before the answer came, as node:http names it. */
function hangUp(): Error {
  return Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
}

const CONNECT_TIMEOUT_MS = 10_000;
/** --expect looks for its text in the first this many bytes of a body. */
const MAX_CHECKED_BODY = 1024 * 1024;

export class HttpLane implements ResponseSink {
  /** A request is in flight (written, or waiting for the connection). */
  busy = false;
  /** When the request in flight was due (open loop: its intended time) and when it went out. */
  dueAt = 0;
  sentAt = 0;
  /** Requests sent so far: tells the request a close cut off from the next one sent meanwhile. */
  private sends = 0;
  private socket: Duplex | undefined;
  private connecting = false;
  private closed = false;
  private readonly parser: HttpResponseParser;
  /** The body so far, when --expect checks it. */
  private body: Buffer | undefined;
  private bodyLen = 0;

  constructor(
    private readonly target: TcpTarget,
    private readonly request: Buffer,
    private readonly owner: LaneOwner,
    checkBodies: boolean,
  ) {
    this.parser = new HttpResponseParser(this, { collectBody: checkBodies });
    if (checkBodies) this.body = Buffer.allocUnsafe(4096);
  }

  /** Sends the request, due at `dueAt`, now; connects first if the connection is gone. */
  send(dueAt: number, now: number): void {
    this.busy = true;
    this.sends++;
    this.dueAt = dueAt;
    this.sentAt = now;
    this.bodyLen = 0;
    if (this.socket !== undefined) this.socket.write(this.request);
    else if (!this.connecting) this.reconnect();
  }

  /** Whether the last body contains `text` (within its first MiB). */
  bodyHas(text: Buffer): boolean {
    if (this.body === undefined) return true;
    // The buffer is reused: a first match that runs past this body's end means none within it.
    const at = this.body.indexOf(text);
    return at !== -1 && at + text.length <= this.bodyLen;
  }

  /** The start of the last body, for a mismatch report. */
  bodyStart(): string {
    return this.body === undefined ? "" : this.body.toString("utf8", 0, Math.min(this.bodyLen, 100));
  }

  /** Ends the lane: the connection is cut (RST) and none is opened again. */
  close(): void {
    this.closed = true;
    this.drop();
  }

  onData(chunk: Buffer): void {
    if (this.socket === undefined) return;
    try {
      this.parser.push(chunk);
    } catch (err) {
      // Only the parser's refusal is the server's fault; anything else is a bug, and surfaces.
      if (!EchoplexError.is(err)) throw err;
      this.drop();
      this.fail(err);
    }
  }

  onResponse(status: number, bodyBytes: number, keepAlive: boolean): void {
    if (!keepAlive) this.drop();
    if (!this.busy) {
      this.drop();
      this.owner.stray("unsolicited");
      return;
    }
    this.busy = false;
    this.owner.answered(this, status, bodyBytes);
  }

  onBody(data: Buffer, start: number, end: number): void {
    const body = this.body;
    if (body === undefined || this.bodyLen >= MAX_CHECKED_BODY) return;
    const len = Math.min(end - start, MAX_CHECKED_BODY - this.bodyLen);
    if (this.bodyLen + len > body.length) {
      const bigger = Buffer.allocUnsafe(
        Math.min(MAX_CHECKED_BODY, Math.max(body.length * 2, this.bodyLen + len)),
      );
      body.copy(bigger, 0, 0, this.bodyLen);
      this.body = bigger;
    }
    data.copy(this.body!, this.bodyLen, start, start + len);
    this.bodyLen += len;
  }

  private reconnect(): void {
    this.connecting = true;
    dial(this.target, CONNECT_TIMEOUT_MS, this).then(
      (socket) => this.attach(socket),
      (err: unknown) => {
        this.connecting = false;
        this.fail(err);
      },
    );
  }

  /** Takes a connection (opened with this lane as its sink, ahead of the first request, or again). */
  attach(socket: Duplex): void {
    this.connecting = false;
    if (this.closed) {
      closeHard(socket);
      return;
    }
    this.parser.reset();
    this.socket = socket;
    socket.on("error", (err) => this.lost(socket, err));
    socket.on("close", () => this.lost(socket, undefined));
    if (this.busy) socket.write(this.request);
  }

  /** The connection ended; a body that runs to the close is complete, a request still waiting failed. */
  private lost(socket: Duplex, err: unknown): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const waiting = this.busy ? this.sends : -1;
    try {
      // May complete a body that ran to the close, and the run may send the next request at once.
      this.parser.end();
    } catch (parseErr) {
      err ??= parseErr;
    }
    if (this.busy && this.sends === waiting) this.fail(err ?? hangUp());
  }

  private fail(err: unknown): void {
    if (!this.busy) {
      this.owner.stray(errorKind(err));
      return;
    }
    this.busy = false;
    this.owner.failed(this, err);
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) closeHard(socket);
  }
}
