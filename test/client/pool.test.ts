// The connection pool against the real cmd and echo services, counting sockets server-side.
import { afterEach, describe, expect, it } from "vitest";
import { type ConnectionPool, createPool } from "../../src/client/pool.js";
import { createServer, type EchoplexServer } from "../../src/core/server.js";
import { cmdHandler } from "../../src/services/cmd/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";

/** A cmd server that records how many sockets were ever open at once. */
class CountedCmdServer {
  live = 0;
  peak = 0;
  accepted = 0;
  server: EchoplexServer<undefined>;

  constructor() {
    const base = cmdHandler();
    this.server = createServer({
      service: "cmd",
      handler: {
        ...base,
        onConnect: () => {
          this.accepted++;
          this.live++;
          this.peak = Math.max(this.peak, this.live);
        },
        onClose: () => {
          this.live--;
        },
      },
    });
  }
}

const pools: ConnectionPool[] = [];
const servers: Array<EchoplexServer<undefined>> = [];

function pool(options: Parameters<typeof createPool>[0]): ConnectionPool {
  const p = createPool(options);
  pools.push(p);
  return p;
}

async function counted(port = 0): Promise<{ c: CountedCmdServer; port: number }> {
  const c = new CountedCmdServer();
  servers.push(c.server);
  const info = await c.server.listen(`127.0.0.1:${port}`);
  return { c, port: info.port };
}

async function waitUntil(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 500 })));
});

describe("createPool", () => {
  it("serves 200 concurrent requests on at most 10 sockets, every reply matching its request", async () => {
    const { c, port } = await counted();
    const p = pool({ host: "127.0.0.1", port, max: 10 });
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => p.request(`ECHO request ${i} ✓`).then((r) => r.toString())),
    );
    expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => `ECHO: request ${i} ✓`));
    expect(c.peak).toBeLessThanOrEqual(10);
    expect(c.peak).toBeGreaterThan(1); // the requests really were spread over several connections
    expect(c.accepted).toBeLessThanOrEqual(10); // connections were reused, not reopened
    expect(p.stats.size).toBeLessThanOrEqual(10);
    // A second wave reuses the same connections.
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.request(`UPPER x${i}`)));
    expect(c.accepted).toBeLessThanOrEqual(10);
  });

  it("pairs replies with requests for length-prefixed framing (echo --framing length)", async () => {
    const echo = createEchoServer({ mode: "length" });
    servers.push(echo);
    const { port } = await echo.listen("127.0.0.1:0");
    const p = pool({ host: "127.0.0.1", port, framing: "length", max: 4 });
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => p.request(`multi\nline ${i}`).then((r) => r.toString())),
    );
    expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => `ECHO: multi\nline ${i}`));
  });

  it("recovers from a server restart in the middle of the traffic", async () => {
    const first = await counted();
    const port = first.port;
    const p = pool({ host: "127.0.0.1", port, max: 10, acquireTimeoutMs: 10_000 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.request(`ECHO ${i}`)));

    // Traffic keeps flowing while the server restarts on the same port.
    let stop = false;
    let ok = 0;
    const failures = new Set<string>();
    const mismatches: string[] = [];
    const workers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const msg = `w${w} n${i}`;
        try {
          const reply = (await p.request(`ECHO ${msg}`)).toString();
          if (reply !== `ECHO: ${msg}`) mismatches.push(`${msg} -> ${reply}`);
          else ok++;
        } catch (err) {
          failures.add((err as { code?: string }).code ?? String(err));
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await waitUntil(() => ok > 200);
    await first.c.server.shutdown({ drainTimeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 200)); // down for a moment
    const second = await counted(port);
    const okAtRestart = ok;
    await waitUntil(() => ok > okAtRestart + 500, 15_000);
    stop = true;
    await Promise.all(workers);

    expect(mismatches).toEqual([]);
    // The only failures are the typed ones a restart causes.
    for (const code of failures) {
      expect([
        "ERR_CONNECTION_CLOSED",
        "ERR_CONNECTION_RESET",
        "ERR_CONNECTION_REFUSED",
        "ERR_TIMEOUT",
      ]).toContain(code);
    }
    expect(second.c.accepted).toBeGreaterThan(0);
    expect(second.c.peak).toBeLessThanOrEqual(10);
    // And after the restart every request succeeds again.
    const after = await Promise.all(Array.from({ length: 200 }, (_, i) => p.request(`PING ${i}`)));
    expect(after.map(String)).toEqual(Array.from({ length: 200 }, () => "PONG"));
  });

  it("rejects with ERR_TIMEOUT when no connection frees up within the acquire timeout", async () => {
    const { port } = await counted();
    const p = pool({ host: "127.0.0.1", port, max: 1, acquireTimeoutMs: 300 });
    const held = await p.acquire();
    const started = Date.now();
    const err = await p.request("PING").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_TIMEOUT" });
    expect((err as Error).message).toMatch(/no connection to 127\.0\.0\.1:\d+ available within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await p.release(held);
    expect((await p.request("PING")).toString()).toBe("PONG");
  });

  it("reports the connect error when the server is down, without spinning", async () => {
    const { c, port } = await counted();
    await c.server.shutdown({ drainTimeoutMs: 0 });
    const p = pool({ host: "127.0.0.1", port, max: 5, acquireTimeoutMs: 1000 });
    const err = await p.request("PING").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_TIMEOUT" });
    expect((err as Error).message).toMatch(/last connect error: connection to .* refused/);
    // Backoff between attempts: a handful of connects in a second, not thousands.
    expect(p.stats.connectErrors).toBeGreaterThan(0);
    expect(p.stats.connectErrors).toBeLessThan(50);
  });

  it("evicts idle connections and checks health before reuse", async () => {
    const { c, port } = await counted();
    const p = pool({ host: "127.0.0.1", port, max: 3, idleTimeoutMs: 200, evictionIntervalMs: 50 });
    await Promise.all([p.request("PING"), p.request("PING"), p.request("PING")]);
    expect(c.live).toBeGreaterThan(0);
    await waitUntil(() => c.live === 0 && p.stats.size === 0);

    // A connection the server closed while idle is not lent again.
    const q = pool({ host: "127.0.0.1", port, max: 1 });
    expect((await q.request("PING")).toString()).toBe("PONG");
    for (const conn of c.server.connections.values()) conn.close();
    await waitUntil(() => c.live === 0);
    expect((await q.request("UPPER again")).toString()).toBe("AGAIN");
    expect(q.stats.created).toBe(2);
  });

  it("runs a health check before reuse, and a failing check replaces the connection", async () => {
    const { port } = await counted();
    let checks = 0;
    const p = pool({
      host: "127.0.0.1",
      port,
      max: 1,
      healthCheck: async (conn) => {
        checks++;
        return (await conn.request("PING", 1000)).toString() === "PONG" && checks !== 2;
      },
    });
    for (let i = 0; i < 3; i++) expect((await p.request(`ECHO ${i}`)).toString()).toBe(`ECHO: ${i}`);
    expect(checks).toBeGreaterThanOrEqual(3);
    expect(p.stats.created).toBe(2); // the second check failed: a new connection
  });

  it("times out a request whose reply never comes and closes that connection", async () => {
    // A server that reads but never answers.
    const silent = createServer({ handler: { createState: () => undefined, onMessage: () => {} } });
    servers.push(silent);
    const { port } = await silent.listen("127.0.0.1:0");
    const p = pool({ host: "127.0.0.1", port, max: 2, requestTimeoutMs: 300 });
    const err = await p.request("hello").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_TIMEOUT" });
    await waitUntil(() => silent.connections.size === 0 && p.stats.size === 0);
  });

  it("close() waits for requests in flight, closes every socket, and refuses new requests", async () => {
    const { c, port } = await counted();
    const p = createPool({ host: "127.0.0.1", port, max: 5 });
    const inflight = Array.from({ length: 50 }, (_, i) => p.request(`ECHO ${i}`));
    const closed = p.close();
    const replies = await Promise.all(inflight);
    expect(replies.map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `ECHO: ${i}`));
    await closed;
    await waitUntil(() => c.live === 0);
    await expect(p.request("PING")).rejects.toMatchObject({ code: "ERR_POOL_CLOSED" });
  });

  it("treats only the shutdown notice as out of band: a reply that merely starts with NOTICE is a reply", async () => {
    const { port } = await counted();
    const p = pool({ host: "127.0.0.1", port, max: 1 });
    expect((await p.request("UPPER notice: not a notice")).toString()).toBe("NOTICE: NOT A NOTICE");
    expect((await p.request("PING")).toString()).toBe("PONG");
    expect(p.stats.created).toBe(1);
  });
});
