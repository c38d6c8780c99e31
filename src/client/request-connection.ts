// One client connection for a request/response protocol: requests are framed and
// written, replies are decoded by the framing's codec and handed to the requests in
// the order they were sent (a FIFO of waiters), so pipelining pairs up correctly.
import type { Socket } from "node:net";
import { formatAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";
import { socketError } from "./connect.js";
import { type ClientFraming, frameMessage, replyDecoder } from "./message-framing.js";

/** open: usable; broken: out of step with the server or closing, never reused; closed: socket gone. */
export type RequestConnectionStatus = "open" | "broken" | "closed";

interface Waiter {
  resolve(reply: Buffer): void;
  reject(err: EchoplexError): void;
  timer: NodeJS.Timeout | undefined;
}

const LF = 0x0a;
const SHUTDOWN_NOTICE = Buffer.from("NOTICE: server shutting down");

/** Tells an out-of-band message (not a reply) from a reply. */
export type NoticeTest = (message: Buffer) => boolean;

/**
 * echoplex services end with the notice "NOTICE: server shutting down" when they shut down.
 * Matched exactly: a reply such as `UPPER notice: x` → "NOTICE: X" is still a reply.
 */
export const isEchoplexNotice: NoticeTest = (message) => SHUTDOWN_NOTICE.equals(message);

export class RequestConnection {
  status: RequestConnectionStatus = "open";
  /** Requests answered on this connection. */
  replies = 0;
  readonly createdAt = Date.now();
  private readonly waiters: Waiter[] = [];
  private readonly where: string;
  private readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly framing: ClientFraming,
    maxReplyBytes: number,
    host: string,
    port: number,
    private readonly isNotice: NoticeTest = isEchoplexNotice,
  ) {
    this.where = formatAddress(host, port);
    const decoder = replyDecoder(framing, maxReplyBytes, (reply) => this.onReply(reply));
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        this.fail(EchoplexError.is(err) ? err : new EchoplexError("ERR_CONNECT_FAILED", String(err)));
      }
    });
    socket.on("end", () => {
      this.fail(
        new EchoplexError("ERR_CONNECTION_CLOSED", `connection to ${this.where} closed by the server`),
      );
    });
    socket.on("error", (err: NodeJS.ErrnoException) => this.fail(socketError(err, this.where)));
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.fail(new EchoplexError("ERR_CONNECTION_CLOSED", `connection to ${this.where} closed`));
        this.status = "closed";
        resolve();
      });
    });
  }

  /** Requests sent and not answered yet. */
  get pending(): number {
    return this.waiters.length;
  }

  /** True when the connection can take a request: open, in step, socket writable. */
  get usable(): boolean {
    return this.status === "open" && !this.socket.destroyed && this.socket.writable;
  }

  /** Sends one request; resolves with its reply (a copy, safe to keep). */
  request(message: Buffer | string, timeoutMs = 0): Promise<Buffer> {
    const payload = typeof message === "string" ? Buffer.from(message) : message;
    if (this.framing === "lines" && payload.includes(LF)) {
      return Promise.reject(
        new EchoplexError(
          "ERR_BAD_OPTION",
          "a line request cannot contain a newline (it would be two requests)",
        ),
      );
    }
    if (!this.usable) {
      return Promise.reject(
        new EchoplexError("ERR_CONNECTION_CLOSED", `connection to ${this.where} is ${this.status}`),
      );
    }
    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          // A late reply would pair with the next request: this connection is done.
          this.fail(new EchoplexError("ERR_TIMEOUT", `no reply from ${this.where} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
      const out: Buffer[] = [];
      frameMessage(this.framing, payload, out);
      this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    });
  }

  /** Half-closes and waits (bounded) for the server to close; then the socket is gone. */
  async close(graceMs = 1000): Promise<void> {
    if (this.status === "closed") return;
    if (this.status === "open") this.status = "broken";
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  /** Closes at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private onReply(view: Buffer): void {
    if (this.isNotice(view)) {
      // A server that is going away: requests it has not answered will not be answered here.
      this.fail(
        new EchoplexError(
          "ERR_CONNECTION_CLOSED",
          `${this.where} sent "${view.toString("utf8")}" and is closing`,
        ),
      );
      this.socket.destroy();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter === undefined) {
      // A message nobody asked for (a shutdown notice, a greeting): out of step, never reuse.
      this.status = this.status === "closed" ? "closed" : "broken";
      this.socket.destroy();
      return;
    }
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    this.replies++;
    // Copy: the view pins the whole received chunk.
    waiter.resolve(Buffer.from(view));
  }

  /** Rejects every waiting request and takes the connection out of service. */
  private fail(err: EchoplexError): void {
    if (this.status === "open") this.status = "broken";
    const waiters = this.waiters.splice(0);
    for (const w of waiters) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(err);
    }
    if (err.code !== "ERR_CONNECTION_CLOSED") this.socket.destroy();
  }
}
