// The HTTP responder's refusals (400, 413, 431) reach a client that keeps sending after
// its bad request: the server half-closes and discards input instead of resetting.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpResponder, type HttpResponder } from "../../../src/services/http/index.js";

let servers: HttpResponder[] = [];

afterEach(async () => {
  await Promise.all(servers.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
  servers = [];
});

async function start(): Promise<{ server: HttpResponder; port: number }> {
  const server = createHttpResponder({ delayMs: 0, maxBodyBytes: 64 * 1024 });
  servers.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  return { server, port };
}

interface Outcome {
  received: string;
  /** The socket error the client saw, if any (ECONNRESET, EPIPE). */
  error: string | undefined;
  /** Junk bytes written after the bad request. */
  junk: number;
}

/**
 * Sends `head`, then streams junk as fast as the connection takes it for `streamMs`
 * whatever comes back, even after the server's FIN (a client that does not look at the
 * answer before it has sent everything); then half-closes and waits for the server's close.
 */
function badThenJunk(port: number, head: string, streamMs = 300): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let junk = 0;
    let stop = false;
    const junkChunk = Buffer.alloc(64 * 1024, 0x7a);
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 15 s; got ${JSON.stringify(Buffer.concat(chunks).toString())}`));
    }, 15_000);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on("close", () => {
      stop = true;
      clearTimeout(guard);
      resolve({ received: Buffer.concat(chunks).toString("latin1"), error, junk });
    });
    socket.once("connect", async () => {
      socket.write(head);
      const until = Date.now() + streamMs;
      while (!stop && Date.now() < until) {
        if (socket.writableLength < 256 * 1024) {
          socket.write(junkChunk);
          junk += junkChunk.length;
        }
        await new Promise((r) => setImmediate(r));
      }
      if (!socket.destroyed && !socket.writableEnded) socket.end();
    });
  });
}

const CASES = [
  { status: 400, code: "HPE_INVALID_METHOD", head: "NOT HTTP AT ALL\r\n\r\n" },
  { status: 431, code: "HPE_HEADER_OVERFLOW", head: `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}` },
  {
    status: 413,
    code: "ERR_BODY_TOO_LARGE",
    head: `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
  },
  {
    status: 413,
    code: "ERR_BODY_TOO_LARGE",
    // Chunked: no length up front, so the limit is found while the body arrives.
    head: `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n${"b".repeat(80 * 1024)}`,
  },
] as const;

describe("http responder: lingering close after a refusal", () => {
  for (const c of CASES) {
    const how = c.head.includes("chunked") ? " (chunked body)" : "";
    it(`a client that keeps sending after its bad request reads the ${c.status}${how}, 30 times out of 30`, async () => {
      const { server, port } = await start();
      const outcomes: Outcome[] = [];
      // Three rounds of ten at once: each client is held up to the 2 s linger.
      for (let round = 0; round < 3; round++) {
        outcomes.push(...(await Promise.all(Array.from({ length: 10 }, () => badThenJunk(port, c.head)))));
      }
      const lost = outcomes.filter((o) => !o.received.startsWith(`HTTP/1.1 ${c.status} `));
      expect(lost.map((o) => `${o.error ?? "no error"}: ${JSON.stringify(o.received.slice(0, 40))}`)).toEqual(
        [],
      );
      // The whole answer arrived: its body is the one-line reason.
      for (const o of outcomes) expect(o.received).toMatch(/\r\n\r\n[^\r\n]+\n$/);
      // Each refused connection counted once, however much junk followed.
      expect(server.counts.errors.get(c.code)).toBe(30);
      expect(server.lingering.started).toBe(30);
      expect(outcomes.every((o) => o.junk > 0)).toBe(true);
      await waitFor(() => server.connections.size === 0);
      expect(server.connections.size).toBe(0);
    }, 120_000);
  }
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
