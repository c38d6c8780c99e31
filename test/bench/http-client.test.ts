// bench http's own HTTP/1.1 client against real servers (node:http, and a raw socket
// server speaking HTTP/1.0) through the real CLI: chunked bodies, interim 103 responses,
// servers that close after a response or in the middle of one, and the open loop's
// corrected and uncorrected latency.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

async function listening(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function withHttp(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  run: (url: string, sockets: Set<Socket>) => Promise<void>,
): Promise<void> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    handler(req, res, ++n);
  });
  const port = await listening(server);
  try {
    await run(`http://127.0.0.1:${port}/x?y=1`, sockets);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe("bench http's client", () => {
  it("reads chunked bodies, 103 Early Hints and Connection: close (reconnecting), every request once", async () => {
    let requests = 0;
    await withHttp(
      (req, res, n) => {
        requests++;
        expect(req.url).toBe("/x?y=1");
        switch (n % 4) {
          case 0:
            res.writeHead(200, { connection: "close" }).end("Hello, and goodbye");
            return;
          case 1:
            // No length: node:http sends the body chunked, here in two chunks.
            res.write("Hel");
            setImmediate(() => res.end("lo in chunks"));
            return;
          case 2:
            res.writeEarlyHints({ link: "</a.css>; rel=preload" });
            res.end("Hello after hints");
            return;
          default:
            res.end("Hello");
        }
      },
      async (url, sockets) => {
        const { code, result, stderr } = await bench([
          "http",
          url,
          "--conns",
          "2",
          "--requests",
          "400",
          "--expect",
          "Hello",
        ]);
        expect(code, stderr).toBe(0);
        expect(requests).toBe(400);
        expect(result.ok).toBe(400);
        expect(result.errors).toEqual({});
        // Each of the 100 closes made the client open a new connection.
        expect(sockets.size).toBeGreaterThanOrEqual(100);
      },
    );
  });

  it("--expect looks into the whole body, across chunks", async () => {
    await withHttp(
      (_req, res, n) => {
        res.write("first part, ");
        setImmediate(() => res.end(n % 2 === 0 ? "needle at the end" : "nothing here"));
      },
      async (url) => {
        const { code, result } = await bench(["http", url, "--requests", "20", "--expect", "needle"]);
        expect(code).toBe(1);
        expect(result.ok).toBe(10);
        expect(result.mismatches).toBe(10);
        expect(result.firstMismatch).toBe('body "first part, nothing here" lacks "needle"');
      },
    );
  });

  it("a response cut short by the server is one error; the run goes on over a new connection", async () => {
    await withHttp(
      (_req, res, n) => {
        if (n % 10 !== 0) {
          res.end("ok");
          return;
        }
        res.writeHead(200, { "content-length": 100 });
        res.write("partial", () => res.socket?.destroy());
      },
      async (url) => {
        const { code, result } = await bench(["http", url, "--conns", "1", "--requests", "100"]);
        expect(code).toBe(1);
        expect(result.replies).toBe(90);
        expect(result.ok).toBe(90);
        expect(result.errors).toEqual({ ECONNRESET: 10 });
      },
    );
  });

  it("an HTTP/1.0 server whose bodies run to the close (a raw socket server)", async () => {
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      socket.once("data", () =>
        socket.end("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello from 1.0"),
      );
      socket.on("error", () => {});
    });
    const port = await listening(server);
    try {
      const { code, result } = await bench([
        "http",
        `http://127.0.0.1:${port}/`,
        "--conns",
        "3",
        "--requests",
        "60",
        "--expect",
        "from 1.0",
      ]);
      expect(code).toBe(0);
      expect(result.ok).toBe(60);
      expect(result.mbPerSec).toBeGreaterThan(0);
      // One connection per request, and the three opened before the first request.
      expect(connections).toBeGreaterThanOrEqual(60);
    } finally {
      server.close();
    }
  });

  it("open loop: corrected and uncorrected percentiles side by side; queueing shows only in the corrected", async () => {
    await withHttp(
      (_req, res) => {
        res.end("fast");
      },
      async (url) => {
        const out = await runCli([
          "bench",
          "http",
          url,
          "--rate",
          "100",
          "--duration",
          "1s",
          "--warmup",
          "0s",
        ]);
        expect(out.code, out.stderr).toBe(0);
        expect(out.stdout).toMatch(/^latency\s+p50 .*\nuncorrected\s+p50 /m);
        const closed = await bench(["http", url, "--requests", "50"]);
        expect(closed.result.uncorrectedUs).toBeUndefined();
        expect(closed.stdout).not.toContain("uncorrected");
      },
    );
    // One connection, 50 ms per answer (at most 20/s), 40 requests due over a second: they
    // queue, so the last ones wait about a second before they can go out.
    await withHttp(
      (_req, res) => {
        setTimeout(() => res.end("slow"), 50);
      },
      async (url) => {
        const { code, result } = await bench([
          "http",
          url,
          "--conns",
          "1",
          "--rate",
          "40",
          "--requests",
          "40",
        ]);
        expect(code).toBe(0);
        const u = result.uncorrectedUs!;
        expect(u.count).toBe(result.latencyUs.count);
        expect(u.count).toBe(40);
        expect(result.latencyUs.max).toBeGreaterThan(800_000);
        // From the actual send, each waits only for its own answer (50 ms, more on a loaded machine).
        expect(u.max).toBeLessThan(result.latencyUs.max / 2);
        expect(u.p50).toBeGreaterThanOrEqual(45_000);
      },
    );
  });
});
