// A small test client over a real socket: send lines or bytes, read what comes back.
import { createServer, connect as netConnect, type Socket } from "node:net";

export class TestClient {
  private data = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.wake();
    });
    socket.on("error", () => {});
    this.closedPromise = new Promise((resolve) => {
      socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Everything received so far (and not consumed by readLine). */
  get received(): Buffer {
    return this.data;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /**
   * Waits until `predicate` holds over the received bytes, or throws after timeoutMs.
   * The 15 s defaults here are for a loaded CI machine; they only bound a failing test.
   */
  async waitFor(predicate: (data: Buffer) => boolean, timeoutMs = 15_000, what = "data"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.data)) {
      if (this.closed)
        throw new Error(
          `connection closed while waiting for ${what}; got ${JSON.stringify(this.data.toString())}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.data.toString())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Reads one line (without its LF, CR kept), consuming it. */
  async readLine(timeoutMs = 15_000): Promise<string> {
    await this.waitFor((d) => d.includes(10), timeoutMs, "a line").catch((err: Error) => {
      if (this.closed && this.data.length > 0) return;
      throw err;
    });
    const nl = this.data.indexOf(10);
    const end = nl < 0 ? this.data.length : nl;
    const line = this.data.subarray(0, end).toString();
    this.data = this.data.subarray(nl < 0 ? end : nl + 1);
    return line;
  }

  async readLines(n: number, timeoutMs = 15_000): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.readLine(timeoutMs));
    return out;
  }

  /** Waits for the server to close the connection; returns everything received. */
  async readToEnd(timeoutMs = 15_000): Promise<string> {
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("timed out waiting for close")), timeoutMs),
      ),
    ]);
    const all = this.data.toString();
    this.data = Buffer.alloc(0);
    return all;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export async function connectClient(port: number, host = "127.0.0.1"): Promise<TestClient> {
  const socket = netConnect({ port, host, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return new TestClient(socket);
}

/** Resolves after ms. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A loopback port free right now (for servers that cannot listen on port 0 themselves). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
