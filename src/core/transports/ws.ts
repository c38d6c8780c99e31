// The WebSocket door (`ws://host:port/path`, `wss://`): each WebSocket message is one
// message for the service, with no line codec; an answer goes back as text to a peer
// whose last message was text, as binary otherwise. Ping/pong finds dead peers; an
// Origin allow-list keeps other sites' pages out; a plain HTTP request on the port
// gets a short page saying what is there. The protocol itself is the `ws` package's.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import type { TlsOptions } from "node:tls";
import { type WebSocket, WebSocketServer } from "ws";
import { messages } from "../../codecs/messages.js";
import type { Address } from "../address.js";
import { WS_DEFAULT_PING_MS, type WsPage } from "../contract.js";
import { type BoundAddress, bindServer } from "../listen.js";
import { formatListenAddress } from "../listen-address.js";
import type { Logger } from "../logger.js";
import { everyTick, type TickTask } from "../ticker.js";
import { withTlsDefaults } from "../tls.js";
import type { Gate, Listener } from "../transport.js";
import { WarnThrottle } from "../warn-throttle.js";

export interface WsListenerOptions {
  address: Address;
  /** The path WebSocket clients connect to ("/" by default). */
  path: string;
  /** Serve wss:// with these options. */
  tls?: TlsOptions | undefined;
  /** Largest message accepted (`--ws-max-message`); a larger one closes with 1009. */
  maxMessageBytes: number;
  /** Ping every peer this often; one that has not answered the last ping by then is dropped. 0: never. */
  pingMs?: number;
  /** Origins allowed to connect (browsers send one); undefined: any. */
  origins?: readonly string[] | undefined;
  /** What a plain GET of `path` gets instead of the 426 page (a browser client). */
  page?: WsPage | undefined;
  /** The service's name, for the page a plain HTTP request gets. */
  service: string;
  stats: { countError(code: string): void; countRejected(reason: string): void };
  logger: Logger;
}

export class WsListener implements Listener {
  readonly transport = "ws" as const;
  acceptCount = 0;
  private http: Server | undefined;
  private readonly wss: WebSocketServer;
  private readonly peers = new Set<WsPeer>();
  private ping: TickTask | undefined;
  private readonly warnings: WarnThrottle;
  private display = "";

  constructor(private readonly options: WsListenerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes,
      clientTracking: false,
    });
    this.warnings = new WarnThrottle(options.logger);
  }

  async open(gate: Gate): Promise<BoundAddress> {
    const { tls } = this.options;
    const http = tls === undefined ? createHttpServer() : createHttpsServer(withTlsDefaults(tls));
    this.http = http;
    http.on("request", (req: IncomingMessage, res: ServerResponse) => this.plainRequest(req, res));
    http.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(gate, req, socket, head),
    );
    const bound = await bindServer(http, this.options.address, (err) => gate.acceptFailed(err));
    this.display = formatListenAddress({
      transport: "ws",
      address: { host: this.options.address.host, port: bound.port },
      path: this.options.path,
      tls: tls !== undefined,
    });
    const pingMs = this.options.pingMs ?? WS_DEFAULT_PING_MS;
    if (pingMs > 0) this.ping = everyTick(pingMs, () => this.pingAll());
    return { ...bound, display: this.display };
  }

  /** Stops accepting; resolves once the port is closed and the last peer is gone. */
  close(): Promise<void> {
    const http = this.http;
    return new Promise((resolve) => {
      if (http === undefined || !http.listening) {
        this.ping?.stop();
        resolve();
        return;
      }
      http.close(() => {
        this.ping?.stop();
        resolve();
      });
      http.closeIdleConnections();
    });
  }

  /** A plain HTTP request: the service's page at the door's path, else a short page that says what this port is. */
  private plainRequest(req: IncomingMessage, res: ServerResponse): void {
    const { page } = this.options;
    const head = req.method === "HEAD";
    if (
      page !== undefined &&
      (head || req.method === "GET") &&
      (req.url ?? "/").split("?")[0] === this.options.path
    ) {
      res.writeHead(200, {
        ...page.headers,
        "content-type": page.contentType,
        "content-length": Buffer.byteLength(page.body),
        "cache-control": "no-cache",
      });
      res.end(head ? undefined : page.body);
      return;
    }
    const body =
      `echoplex ${this.options.service}: a WebSocket endpoint at ${this.display}\n` +
      "Connect with a WebSocket client, e.g. `echoplex client " +
      `${this.display}\` or \`websocat ${this.display}\`.\n`;
    res.writeHead(426, {
      "content-type": "text/plain; charset=utf-8",
      upgrade: "websocket",
      connection: "Upgrade",
      "content-length": Buffer.byteLength(body),
    });
    res.end(head ? undefined : body);
  }

  private upgrade(gate: Gate, req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.acceptCount++;
    socket.on("error", noop);
    if (!gate.accepting) {
      socket.destroy();
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path !== this.options.path) {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path}; try ${this.options.path}`);
      return;
    }
    const origin = req.headers.origin;
    const { origins } = this.options;
    if (origins !== undefined && (origin === undefined || !origins.includes(origin))) {
      this.options.stats.countRejected("ws_origin");
      this.warnings.warn(
        "ws origin",
        { remote: socket.remoteAddress, origin },
        "WebSocket origin not allowed, refused",
      );
      refuseUpgrade(socket, 403, `origin ${origin ?? "(none)"} is not allowed`);
      return;
    }
    gate.handshaking.add(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      gate.handshaking.delete(socket);
      const peer = new WsPeer(ws, this.options.stats, this.options.logger);
      const remoteAddress = socket.remoteAddress ?? "unknown";
      const framing = messages(this.options.maxMessageBytes);
      if (!gate.roomFor(peer, remoteAddress, framing)) return;
      this.peers.add(peer);
      peer.once("close", () => this.peers.delete(peer));
      gate.admit({
        stream: peer,
        transport: "ws",
        remoteAddress,
        remotePort: socket.remotePort ?? 0,
        secure: this.options.tls !== undefined,
        messages: framing,
      });
    });
  }

  private pingAll(): void {
    for (const peer of this.peers) peer.ping();
  }
}

/** One WebSocket as a stream of whole messages. */
class WsPeer extends Duplex {
  /** The type of the peer's last message: answers go back in kind. */
  private binary = false;
  private alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly stats: WsListenerOptions["stats"],
    private readonly logger: Logger,
  ) {
    super({ readableObjectMode: true, allowHalfOpen: true });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.binary = isBinary;
      this.push(data);
    });
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.on("error", (err: Error & { code?: string }) => {
      // ws closes the connection itself (1009 for a message over --ws-max-message).
      if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
        this.stats.countError("ERR_FRAME_TOO_LARGE");
        this.logger.warn({ err: err.message }, "WebSocket message over --ws-max-message, closing (1009)");
      } else {
        this.logger.debug({ err: err.message, code: err.code }, "WebSocket protocol error");
      }
    });
    ws.on("close", () => {
      // The peer's stream ends; once the engine has seen that, nothing more can be sent.
      this.push(null);
      this.once("end", () => process.nextTick(() => this.destroy()));
    });
    // The engine pauses a peer that does not read its answers: stop reading its socket too.
    this.on("pause", () => ws.pause());
    this.on("resume", () => ws.resume());
  }

  ping(): void {
    if (!this.alive) {
      this.logger.info({}, "WebSocket peer did not answer a ping, dropping it");
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      done();
      return;
    }
    this.ws.send(chunk, { binary: this.binary }, (err) => done(err ?? null));
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    done(err);
  }
}

/** Answers a WebSocket handshake with a plain HTTP error. */
function refuseUpgrade(socket: Socket, status: number, message: string): void {
  const body = `${message}\n`;
  const reason = status === 403 ? "Forbidden" : "Not Found";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function noop(): void {}
