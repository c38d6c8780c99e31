// The engine's limits, backpressure, peer tracking and shutdown, over real sockets.
import { afterEach, describe, expect, it } from "vitest";
import { lines } from "../../src/codecs/lines.js";
import { createServer, type EchoplexServer } from "../../src/core/server.js";
import { kPaused } from "../../src/core/slots.js";
import { EchoplexError } from "../../src/errors.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

let server: EchoplexServer<unknown> | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server?.shutdown({ drainTimeoutMs: 500 });
  server = undefined;
});

async function client(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

describe("engine", () => {
  it("tracks each peer: id, address, connected-at, bytes and messages in/out", async () => {
    server = createEchoServer() as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.write("abc\nde\n");
    await c.readLines(2);
    const [conn] = [...server.connections.values()];
    expect(conn).toBeDefined();
    const info = conn!.info();
    expect(info).toMatchObject({
      service: "echo",
      remoteAddress: "127.0.0.1",
      remotePort: c.socket.localPort,
      bytesIn: 7,
      bytesOut: 6 + 4 + 6 + 3,
      messagesIn: 2,
      messagesOut: 2,
      status: "open",
      tls: false,
    });
    expect(Date.parse(info.connectedAt)).toBeLessThanOrEqual(Date.now());
    c.destroy();
    await c.closedPromise;
    // The server sees the close a moment after the client does.
    await expect.poll(() => server!.connections.size, { timeout: 10_000 }).toBe(0);
    const { bytesIn, bytesOut, messagesIn, messagesOut } = server.stats();
    expect({ bytesIn, bytesOut, messagesIn, messagesOut }).toEqual({
      bytesIn: 7,
      bytesOut: 19,
      messagesIn: 2,
      messagesOut: 2,
    });
    expect(server.stats().connectionsOpened).toBe(1);
  });

  it("refuses connections beyond the maximum with an error line and keeps serving the others", async () => {
    server = createEchoServer({ limits: { maxConnections: 2 } }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const a = await client(port);
    const b = await client(port);
    await sleep(50);
    const extra = await client(port);
    expect(await extra.readToEnd()).toBe("ERROR: too many connections (limit 2)\n");
    a.send("still here");
    expect(await a.readLine()).toBe("ECHO: still here");
    expect(server.stats().rejected.get("max_connections")).toBe(1);
    b.destroy();
    await b.closedPromise;
    await expect.poll(() => server!.connections.size, { timeout: 10_000 }).toBe(1); // the server saw b leave
    const again = await client(port);
    again.send("room again");
    expect(await again.readLine()).toBe("ECHO: room again");
  });

  it("refuses connections beyond the per-address maximum", async () => {
    server = createEchoServer({ limits: { maxConnectionsPerIp: 1 } }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    await client(port);
    await sleep(30);
    const extra = await client(port);
    expect(await extra.readToEnd()).toBe("ERROR: too many connections from 127.0.0.1 (limit 1)\n");
  });

  it("closes idle connections with a message, leaving active ones", async () => {
    // 1 s, ten times the busy client's pace: a loaded machine's stalls must not make it look idle.
    server = createEchoServer({ limits: { idleTimeoutMs: 1000 } }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const idle = await client(port);
    const busy = await client(port);
    const deadline = Date.now() + 2500;
    while (Date.now() < deadline) {
      busy.send("tick");
      await busy.readLine();
      await sleep(100);
    }
    expect(await idle.readToEnd()).toBe("ERROR: idle timeout: no traffic for 1 s, closing\n");
    expect(busy.closed).toBe(false);
  });

  it("stops reading from a peer that does not read its replies, and memory stays bounded", async () => {
    server = createEchoServer() as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.socket.pause(); // never read
    const line = Buffer.alloc(1023, 0x61);
    const chunk = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([line, Buffer.from("\n")])));
    let written = 0;
    let stalledFor = 0;
    // Write up to 1 GiB; with backpressure the writes stall long before that.
    while (written < 1024 ** 3 && stalledFor < 1000) {
      if (c.socket.write(chunk)) {
        written += chunk.length;
        stalledFor = 0;
        if (written % (4 * 1024 * 1024) === 0) await sleep(0);
      } else {
        written += chunk.length;
        const drained = await Promise.race([
          new Promise<boolean>((r) => c.socket.once("drain", () => r(true))),
          sleep(250).then(() => false),
        ]);
        if (!drained) stalledFor += 250;
      }
    }
    expect(written).toBeLessThan(256 * 1024 * 1024);
    const [conn] = [...server.connections.values()];
    // An engine field: read through its slot, as only the engine (and its tests) may.
    expect(conn![kPaused]).toBe(true);
    // Unsent replies held by the server for this peer: high-water mark plus one read's replies.
    expect(conn!.pendingBytes).toBeLessThan(server.limits.highWaterBytes + 512 * 1024);
    // Reading again drains everything and the server resumes.
    const expectedReplyBytes = (written / 1024) * (6 + 1024);
    c.socket.resume();
    await c.waitFor((d) => d.length >= 1, 5000);
    c.socket.removeAllListeners("data");
    let got = 0;
    c.socket.on("data", (d: Buffer) => {
      got += d.length;
    });
    const until = Date.now() + 20_000;
    while (got + c.received.length < expectedReplyBytes && Date.now() < until) await sleep(20);
    expect(got + c.received.length).toBe(expectedReplyBytes);
  }, 60_000);

  it("disconnects a peer whose pending output passes the maximum (fan-out to a non-reader)", async () => {
    const targets: Array<{ send(p: string): void }> = [];
    server = createServer({
      service: "fanout",
      limits: { maxPendingBytes: 1024 * 1024 },
      handler: {
        createState: () => undefined,
        onConnect: (conn) => targets.push(conn),
        onMessage: () => {},
      },
    }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const slow = await client(port);
    slow.socket.pause();
    await sleep(50);
    const big = "z".repeat(64 * 1024);
    for (let i = 0; i < 400 && server.connections.size > 0; i++) {
      targets[0]!.send(big);
      await sleep(5);
    }
    expect(server.connections.size).toBe(0);
    expect(server.stats().errors.get("ERR_SLOW_CONSUMER")).toBe(1);
    slow.socket.resume();
    await slow.closedPromise;
  }, 30_000);

  it("lets a handler's async reply finish before a half-closed peer is closed", async () => {
    server = createServer({
      handler: {
        createState: () => undefined,
        onMessage: async (conn, payload) => {
          await sleep(100);
          conn.send(`late ${payload.toString()}`);
        },
      },
    }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.write("a\nb");
    c.end();
    expect(await c.readToEnd()).toBe("late a\nlate b\n");
  });

  it("sends a protocol error only after the async replies to the messages before it", async () => {
    server = createServer({
      framing: lines({ maxLength: 8 }),
      handler: {
        createState: () => undefined,
        onMessage: async (conn, payload) => {
          await sleep(100);
          conn.send(`late ${payload.toString()}`);
        },
      },
    }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    // Input after the bad line (more lines, a partial one, the half-close) is not answered.
    c.write("a\nb\n0123456789\nc\nparti");
    c.end();
    expect(await c.readToEnd()).toBe("late a\nlate b\nERROR: line exceeds 8 bytes\n");
    expect(server.stats().errors.get("ERR_LINE_TOO_LONG")).toBe(1);
  });

  it("shutdown answers what was received, sends the notice, closes every peer", async () => {
    server = createEchoServer() as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const conns = await Promise.all(Array.from({ length: 20 }, () => client(port)));
    const many = Array.from({ length: 2000 }, (_, i) => `req ${i}`).join("\n");
    await Promise.all(conns.map((c) => new Promise<void>((r) => c.socket.write(`${many}\n`, () => r()))));
    await server.shutdown();
    for (const c of conns) {
      const text = await c.readToEnd();
      const got = text.split("\n");
      expect(got.length).toBe(2002);
      expect(got[1999]).toBe("ECHO: req 1999");
      expect(got[2000]).toBe("NOTICE: server shutting down");
    }
    expect(server.connections.size).toBe(0);
    expect(server.draining).toBe(true);
  });

  it("force-closes peers that do not read after the drain timeout", async () => {
    server = createEchoServer() as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.socket.pause();
    c.write(`${"q".repeat(60_000)}\n`.repeat(200));
    await sleep(200);
    const started = Date.now();
    await server.shutdown({ drainTimeoutMs: 300 });
    // Far below "forever"; generous because a loaded machine is slow, not because 300 ms is exact.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.connections.size).toBe(0);
  });

  it("reports listen errors as typed errors", async () => {
    server = createEchoServer() as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const other = createEchoServer();
    const err = await other.listen(`127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(EchoplexError.is(err) && err.code).toBe("ERR_ADDRESS_IN_USE");
    expect((err as Error).message).toBe(`address 127.0.0.1:${port} is already in use`);
    await expect(createEchoServer().listen("nonsense:port")).rejects.toThrow(/bad address/);
  });

  it("runs a custom line protocol with per-connection state", async () => {
    server = createServer({
      framing: lines({ maxLength: 1024 }),
      handler: {
        createState: () => ({ count: 0 }),
        onConnect: (conn) => conn.send("hello"),
        onMessage(conn, line) {
          conn.state.count++;
          conn.send(`${conn.state.count}: ${line.toString().toUpperCase()}`);
        },
      },
    }) as EchoplexServer<unknown>;
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.write("a\nb\n");
    expect(await c.readLines(3)).toEqual(["hello", "1: A", "2: B"]);
  });
});
