// The client over WebSocket (the `ws` package): one line is one text message (binary
// with `binary`), each message received is one reply; wss:// with the TLS flags. A
// refused handshake and a close code are told in words, not as ws's internals.
import type { ClientRequest, IncomingMessage } from "node:http";
import WebSocket from "ws";
import { EchoplexError } from "../errors.js";
import {
  type ConnectOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  socketError,
  tlsMaterial,
  unusableTlsFiles,
} from "./connect.js";
import { MessageLink } from "./message-link.js";
import { targetName } from "./target.js";

/** What the standard close codes mean (RFC 6455 §7.4.1), for a close the server gave no reason for. */
const CLOSE_CODES: Record<number, string> = {
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1006: "connection lost without a close frame",
  1007: "invalid message data (not UTF-8 text?)",
  1008: "policy violation",
  1009: "message too big",
  1010: "extension required",
  1011: "internal server error",
  1012: "service restart",
  1013: "try again later",
  1014: "bad gateway",
};

/** The most of a refusal page shown (its first line). */
const PAGE_BYTES = 512;

class WsLink extends MessageLink {
  constructor(
    private readonly ws: WebSocket,
    private readonly binary: boolean,
    quietMs: number,
  ) {
    super(quietMs);
    ws.on("message", (data: Buffer) => this.received(data));
    ws.on("close", (code: number, reason: Buffer) => {
      // 1000 (done) and 1005 (no code) are an ordinary close; anything else is worth a word.
      if (code !== 1000 && code !== 1005) {
        const text = reason.length > 0 ? reason.toString("utf8") : (CLOSE_CODES[code] ?? "closed");
        this.closeReason = `${code} ${text}`;
      }
      this.ended();
    });
    ws.on("error", (err) => this.destroy(err));
    this.on("pause", () => ws.pause());
    this.on("resume", () => ws.resume());
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      done();
      return;
    }
    this.ws.send(chunk, { binary: this.binary }, () => done());
  }

  protected hangUp(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
  }

  protected release(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

export interface WsLinkOptions extends ConnectOptions {
  /** Send binary messages instead of text. */
  binary?: boolean;
  /** After the input ends, hang up once the server has been quiet this long. */
  quietMs: number;
}

/** Opens a WebSocket (the handshake bounded by the connect timeout); rejects with a typed error. */
export function openWebSocket(options: WsLinkOptions): Promise<MessageLink> {
  const secure = options.tls !== undefined;
  const where = targetName(options, secure);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const tls = options.tls === undefined ? {} : tlsMaterial(options.host, options.tls);
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(where, {
        ...tls,
        perMessageDeflate: false,
        ...(timeoutMs > 0 ? { handshakeTimeout: timeoutMs } : {}),
      });
    } catch (err) {
      reject(EchoplexError.is(err) ? err : unusableTlsFiles(err));
      return;
    }
    let settled = false;
    const fail = (err: EchoplexError) => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.terminate();
      reject(err);
    };
    ws.once("open", () => {
      settled = true;
      ws.removeAllListeners();
      resolve(new WsLink(ws, options.binary === true, options.quietMs));
    });
    ws.once("unexpected-response", (req: ClientRequest, res: IncomingMessage) => {
      void refusal(res).then((page) => {
        req.destroy();
        const status = `HTTP ${res.statusCode} ${res.statusMessage ?? ""}`.trim();
        fail(
          new EchoplexError(
            "ERR_CONNECT_FAILED",
            `WebSocket handshake refused: ${status}${page === "" ? "" : `: ${page}`} (${where})`,
          ),
        );
      });
    });
    ws.on("error", (err: NodeJS.ErrnoException) => fail(handshakeError(err, where, timeoutMs)));
  });
}

function handshakeError(err: NodeJS.ErrnoException, where: string, timeoutMs: number): EchoplexError {
  if (/handshake has timed out/i.test(err.message)) {
    return new EchoplexError(
      "ERR_TIMEOUT",
      `WebSocket handshake with ${where} timed out after ${timeoutMs} ms`,
      {
        cause: err,
      },
    );
  }
  // node's HTTP parser on bytes that are not HTTP: some other protocol listens there.
  if ((err.code ?? "").startsWith("HPE_")) {
    return new EchoplexError(
      "ERR_CONNECT_FAILED",
      `${where} does not answer in HTTP: not a WebSocket port?`,
      {
        cause: err,
      },
    );
  }
  return socketError(err, where);
}

/** The first line of the refusal page, read bounded (a few hundred bytes, one second). */
function refusal(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let read = false;
    const done = () => {
      if (read) return;
      read = true;
      clearTimeout(timer);
      res.removeAllListeners("data");
      const text = Buffer.concat(parts).toString("utf8");
      resolve((text.split("\n")[0] ?? "").trim().slice(0, 200));
    };
    const timer = setTimeout(done, 1000);
    res.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= PAGE_BYTES) done();
    });
    res.once("end", done);
    res.once("error", done);
  });
}
