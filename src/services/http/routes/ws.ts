// /ws: a WebSocket echo (the `ws` package on the HTTP server's upgrade event): every
// message comes back as sent (text stays text, binary stays binary), up to --max-bytes.
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import type { Route } from "./types.js";

// The ws package is loaded at the first upgrade, not at start: an HTTP server nobody opens
// /ws on never loads its files (5 MiB of an idle `echoplex http`, docs/BENCHMARKS.md).
const loadWs = () => createRequire(import.meta.url)("ws") as typeof import("ws");

export const WS_ROUTE: Route = {
  path: "/ws",
  methods: ["GET"],
  description:
    "WebSocket echo (Upgrade: websocket): each message back as sent, up to --max-bytes; plain GET: 426",
  example: "/ws",
  handle: (r) =>
    r.send(
      426,
      { upgrade: "websocket", "content-type": "text/plain; charset=utf-8" },
      "use a WebSocket client\n",
    ),
};

export class WsEcho {
  private wss: WebSocketServer | undefined;
  private readonly clients = new Set<WebSocket>();

  constructor(private readonly maxBytes: number) {}

  /** The server's 'upgrade' event: /ws becomes an echo; any other path is refused. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    this.wss ??= new (loadWs().WebSocketServer)({ noServer: true, maxPayload: this.maxBytes });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.clients.add(ws);
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
      // A message over --max-bytes closes the socket with 1009; the error is that, nothing more.
      ws.on("error", () => ws.terminate());
      ws.on("close", () => this.clients.delete(ws));
    });
  }

  /** Shutdown: every echo socket gets a going-away close. */
  closeAll(): void {
    for (const ws of this.clients) ws.close(1001, "server shutting down");
  }
}
