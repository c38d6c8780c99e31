// A small HTTP(S) client over node:http for tests: one request, the whole answer, and how long it took.
import { type Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
  /** The client port used, to tell whether a keep-alive connection was reused. */
  localPort: number;
}

export function httpGet(
  url: string,
  options: {
    method?: string;
    body?: string;
    agent?: Agent | false;
    headers?: Record<string, string>;
    ca?: string;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  const started = Date.now();
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        agent: options.agent ?? false,
        headers: options.headers,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const localPort = res.socket.localPort ?? 0;
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            ms: Date.now() - started,
            localPort,
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 20_000, () => req.destroy(new Error(`timed out: ${url}`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * One raw keep-alive HTTP/1.1 connection that counts every byte it sends and
 * receives, so a test can compare them with the server's byte counters.
 */
export class RawHttpConnection {
  bytesSent = 0;
  bytesReceived = 0;
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on("end", () => {
      this.ended = true;
      this.waiter?.();
    });
    socket.on("error", () => {});
  }

  static async open(port: number): Promise<RawHttpConnection> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawHttpConnection(socket);
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Sends `GET path` (with `extra` headers) and resolves with the status and body of the answer. */
  async get(path: string, extra = ""): Promise<{ status: number; body: string }> {
    const request = `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
    this.bytesSent += Buffer.byteLength(request);
    this.socket.write(request);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const head = this.buffer.indexOf("\r\n\r\n");
      if (head >= 0) {
        const headers = this.buffer.subarray(0, head).toString();
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
        if (this.buffer.length >= head + 4 + length) {
          const body = this.buffer.subarray(head + 4, head + 4 + length).toString();
          this.buffer = this.buffer.subarray(head + 4 + length);
          return { status: Number(headers.split(" ")[1]), body };
        }
      }
      if (this.ended) throw new Error(`connection closed before the answer to ${path}`);
      if (Date.now() > deadline) throw new Error(`no answer to ${path}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves once the server has closed the connection. */
  async closed(): Promise<void> {
    while (!this.ended) await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    this.socket.destroy();
  }
}
