import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { bench } from "./helpers.js";

async function httpServer(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}/hello`, server };
}

describe("bench http", () => {
  it("GETs a URL over keep-alive connections, exact counts", async () => {
    let requests = 0;
    const sockets = new Set<unknown>();
    const { url, server } = await httpServer((req, res) => {
      requests++;
      sockets.add(req.socket);
      res.end("Hello World!");
    });
    try {
      const { code, result } = await bench([
        "http",
        url,
        "--conns",
        "4",
        "--requests",
        "1000",
        "--expect",
        "Hello",
      ]);
      expect(code).toBe(0);
      expect(requests).toBe(1000);
      expect(result.ok).toBe(1000);
      expect(sockets.size).toBe(4); // keep-alive: one socket per connection, reused
      expect(result.mbPerSec).toBeGreaterThan(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("POSTs a body, and counts error statuses by code", async () => {
    let n = 0;
    const { url, server } = await httpServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        n++;
        if (n % 5 === 0) {
          res.statusCode = 503;
          res.end("busy");
        } else res.end(`got ${req.method} ${body}`);
      });
    });
    try {
      const { code, result } = await bench([
        "http",
        url,
        "--method",
        "POST",
        "--message",
        "ping",
        "--expect",
        "got POST ping",
        "--requests",
        "100",
      ]);
      expect(code).toBe(1);
      expect(result.replies).toBe(100);
      expect(result.ok).toBe(80);
      expect(result.errors).toEqual({ http_503: 20 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
