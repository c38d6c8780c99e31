// The `conn` a scenario script drives: send bytes, wait for what the server must say
// (a string, a RegExp or bytes) within a time limit. Over every door bench speaks:
// TCP, TLS, Unix and WebSocket through bench's dial(), UDP through one connected
// datagram socket (the datagrams received are read as one stream).
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import type { Duplex } from "node:stream";
import type { BenchTarget } from "../options.js";
import { closeHard, dial } from "../transport.js";

/** What `expect` waits for. */
export type Expectation = string | RegExp | Uint8Array;

/** An expectation the server did not meet in time (or the connection closed first). */
export class ExpectFailed extends Error {
  constructor(
    message: string,
    readonly why: "timeout" | "closed" | "overflow",
  ) {
    super(message);
    this.name = "ExpectFailed";
  }
}

/** Received bytes kept waiting for an expectation; past this the connection is in error. */
const MAX_BUFFERED = 1024 * 1024;

export interface ScriptConn {
  send(data: string | Uint8Array): void;
  /** Resolves with the text up to the end of the match (consumed); rejects with ExpectFailed. */
  expect(what: Expectation, timeoutMs?: number): Promise<string>;
  /** Drops what was received and not yet expected. */
  clear(): void;
  /** Closes this connection: the next iteration gets a new one (a dialogue that ends in QUIT). */
  reconnect(): void;
}

interface Waiter {
  what: Expectation;
  resolve: (text: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const show = (what: Expectation) =>
  typeof what === "string"
    ? JSON.stringify(what)
    : what instanceof RegExp
      ? String(what)
      : `${what.length} bytes`;

export class Link implements ScriptConn {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  closed = false;

  constructor(
    private readonly write: (data: Buffer) => void,
    private readonly close: () => void,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Bytes from the server. */
  onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > MAX_BUFFERED) {
      this.fail(new ExpectFailed(`more than ${MAX_BUFFERED} bytes received and not expected`, "overflow"));
      return;
    }
    this.check();
  }

  onClose(): void {
    this.closed = true;
    this.fail(new ExpectFailed("the connection closed", "closed"));
  }

  send(data: string | Uint8Array): void {
    if (this.closed) throw new ExpectFailed("send on a closed connection", "closed");
    this.write(typeof data === "string" ? Buffer.from(data) : Buffer.from(data));
  }

  expect(what: Expectation, timeoutMs = this.defaultTimeoutMs): Promise<string> {
    if (this.waiter !== undefined)
      return Promise.reject(new Error("expect: one expectation at a time (await it)"));
    if (this.closed)
      return Promise.reject(new ExpectFailed(`expected ${show(what)}: connection closed`, "closed"));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new ExpectFailed(`expected ${show(what)} within ${timeoutMs}ms`, "timeout"));
      }, timeoutMs);
      this.waiter = { what, resolve, reject, timer };
      this.check();
    });
  }

  clear(): void {
    this.buffer = Buffer.alloc(0);
  }

  reconnect(): void {
    this.end();
  }

  /** Ends the connection (after an error its state is unknown: a fresh one is dialled). */
  end(): void {
    this.closed = true;
    this.close();
  }

  private check(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const end = matchEnd(this.buffer, w.what);
    if (end < 0) return;
    const text = this.buffer.subarray(0, end).toString("utf8");
    this.buffer = this.buffer.subarray(end);
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(text);
  }

  private fail(err: ExpectFailed): void {
    const w = this.waiter;
    if (w === undefined) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.reject(new ExpectFailed(`expected ${show(w.what)}: ${err.message}`, err.why));
  }
}

/** Where the first match of `what` in `buf` ends, or -1. */
function matchEnd(buf: Buffer, what: Expectation): number {
  if (typeof what === "string") {
    const needle = Buffer.from(what);
    const at = buf.indexOf(needle);
    return at < 0 ? -1 : at + needle.length;
  }
  if (what instanceof RegExp) {
    const text = buf.toString("utf8");
    const m = new RegExp(what.source, what.flags.replace("g", "")).exec(text);
    return m === null ? -1 : Buffer.byteLength(text.slice(0, m.index + m[0].length));
  }
  const at = buf.indexOf(what);
  return at < 0 ? -1 : at + what.length;
}

/** Opens a connection for one virtual user over the target's door. */
export async function openLink(target: BenchTarget, timeoutMs: number): Promise<Link> {
  if (target.transport === "udp") return openUdp(target, timeoutMs);
  let link: Link | undefined;
  const pending: Buffer[] = [];
  const socket: Duplex = await dial(target, timeoutMs, {
    onData: (chunk) => (link ? link.onData(chunk) : pending.push(Buffer.from(chunk))),
  });
  const made = new Link(
    (data) => socket.write(data),
    () => closeHard(socket),
    timeoutMs,
  );
  link = made;
  for (const chunk of pending) made.onData(chunk);
  socket.on("error", () => made.onClose());
  socket.on("close", () => made.onClose());
  return made;
}

function openUdp(target: { host: string; port: number }, timeoutMs: number): Promise<Link> {
  const socket: UdpSocket = createSocket(target.host.includes(":") ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(target.port, target.host, () => {
      socket.off("error", reject);
      const link = new Link(
        (data) => socket.send(data),
        () => socket.close(),
        timeoutMs,
      );
      socket.on("message", (msg) => link.onData(msg));
      socket.on("error", () => link.onClose());
      resolve(link);
    });
  });
}
