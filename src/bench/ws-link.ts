// A WebSocket client (the `ws` package) as the Duplex the bench modes already drive:
// each write is sent as one binary message and each message received is one 'data'
// chunk (object mode, so two messages never merge), so a whole message is a request
// or a reply and no line framing is involved.
import { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { formatAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";
import type { WsTarget } from "./options.js";

export class WsLink extends Duplex {
  constructor(private readonly ws: WebSocket) {
    super({ readableObjectMode: true, allowHalfOpen: false });
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      this.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer));
    });
    ws.on("close", () => {
      this.push(null);
      this.destroy();
    });
    ws.on("error", (err) => this.destroy(err));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      done();
      return;
    }
    this.ws.send(chunk, { binary: true }, (err) => done(err ?? null));
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    // An abrupt end, as the stream modes close with RST: no closing handshake to wait for.
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    done(err);
  }
}

export function wsUrl(target: WsTarget): string {
  return `${target.tls ? "wss" : "ws"}://${formatAddress(target.host, target.port)}${target.path}`;
}

/** Opens a WebSocket and resolves once the handshake is done. */
export function dialWs(target: WsTarget, timeoutMs: number): Promise<WsLink> {
  return new Promise((resolve, reject) => {
    const tls = target.tls;
    const ws = new WebSocket(wsUrl(target), {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      ...(tls === undefined
        ? {}
        : {
            rejectUnauthorized: !tls.insecure,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            ...(tls.servername === undefined ? {} : { servername: tls.servername }),
          }),
    });
    let refused = false;
    const onError = (err: Error) => {
      // After a refused handshake, terminate() reports the abort here: already said.
      if (refused) return;
      ws.terminate();
      reject(
        /timed out/i.test(err.message)
          ? new EchoplexError("ERR_TIMEOUT", `connect to ${wsUrl(target)} timed out`)
          : err,
      );
    };
    // A server that answers the upgrade with a plain HTTP status: say which, once.
    ws.once("unexpected-response", (_req, res) => {
      refused = true;
      ws.terminate();
      reject(
        new EchoplexError(
          "ERR_CONNECT_FAILED",
          `cannot connect to ${wsUrl(target)}: the server answered the WebSocket handshake with HTTP ${res.statusCode ?? "?"} (is the path right?)`,
        ),
      );
    });
    ws.on("error", onError);
    ws.once("open", () => {
      ws.off("error", onError);
      resolve(new WsLink(ws));
    });
  });
}
