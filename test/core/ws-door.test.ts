// The WebSocket door: one WebSocket message is one message (no line codec), answers
// in the kind they came (text or binary), ping/pong, the Origin allow-list, the
// message limit, the page for plain HTTP, and the server's one registry and shutdown.
// Clients: the `ws` package's client and curl.
import { execFile } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { EchoplexServer } from "../../src/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { connectClient } from "../helpers/net.js";
import { until } from "../helpers/until.js";

const servers: EchoplexServer<undefined>[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 1000 })));
});

function echo(options: Parameters<typeof createEchoServer>[0] = {}): EchoplexServer<undefined> {
  const server = createEchoServer(options);
  servers.push(server);
  return server;
}

interface Received {
  data: Buffer;
  binary: boolean;
}

/** A WebSocket client that records messages and how it closed. */
async function wsClient(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  sockets.push(ws);
  const got: Received[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  ws.on("message", (data: Buffer, binary: boolean) => got.push({ data, binary }));
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
  return { ws, got, closed };
}

describe("the ws:// door", () => {
  it("answers each message as one message, text as text and binary as binary, and lists the peer as ws", async () => {
    const server = echo();
    const info = await server.listen("ws://127.0.0.1:0/echo");
    expect(info).toMatchObject({ transport: "ws", display: `ws://127.0.0.1:${info.port}/echo` });
    const client = await wsClient(`ws://127.0.0.1:${info.port}/echo`);
    client.ws.send("two\nlines");
    await until(() => client.got.length === 1, "the text answer");
    client.ws.send(Buffer.from([0, 1, 2]), { binary: true });
    await until(() => client.got.length === 2, "the binary answer");
    expect(client.got[0]).toEqual({ data: Buffer.from("ECHO: two\nlines"), binary: false });
    expect(client.got[1]).toEqual({ data: Buffer.from([...Buffer.from("ECHO: "), 0, 1, 2]), binary: true });
    expect(server.peers()).toMatchObject([{ transport: "ws", remoteAddress: "127.0.0.1", messagesIn: 2 }]);
  });

  it("tells curl what the port is (426 with a short page) and refuses other paths with 404", async () => {
    const server = echo();
    const { port } = await server.listen("ws://127.0.0.1:0/echo");
    const page = await new Promise<string>((resolve, reject) =>
      execFile("curl", ["-s", "-i", `http://127.0.0.1:${port}/echo`], { timeout: 10_000 }, (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    expect(page).toMatch(/^HTTP\/1\.1 426 Upgrade Required/);
    expect(page).toContain(`echoplex echo: a WebSocket endpoint at ws://127.0.0.1:${port}/echo`);
    await expect(wsClient(`ws://127.0.0.1:${port}/other`)).rejects.toThrow("HTTP 404");
  });

  it("serves a service's page (wsPage) to a GET of its path; other paths and methods keep the 426 page", async () => {
    const server = echo({
      wsPage: {
        contentType: "text/html; charset=utf-8",
        body: "<p>hi</p>",
        headers: { "x-frame-options": "DENY" },
      },
    });
    const { port } = await server.listen("ws://127.0.0.1:0/echo");
    const curl = (path: string, ...flags: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          "curl",
          ["-s", "-i", ...flags, `http://127.0.0.1:${port}${path}`],
          { timeout: 10_000 },
          (err, out) => (err ? reject(err) : resolve(out)),
        ),
      );
    const page = await curl("/echo?x=1");
    expect(page).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(page).toMatch(/content-type: text\/html; charset=utf-8/i);
    expect(page).toMatch(/x-frame-options: DENY/i);
    expect(page.endsWith("\r\n\r\n<p>hi</p>")).toBe(true);
    expect(await curl("/other")).toMatch(/^HTTP\/1\.1 426/);
    expect(await curl("/echo", "-X", "POST")).toMatch(/^HTTP\/1\.1 426/);
    const client = await wsClient(`ws://127.0.0.1:${port}/echo`);
    client.ws.send("still a door");
    await until(() => client.got.length === 1, "the answer");
    expect(String(client.got[0]?.data)).toBe("ECHO: still a door");
  });

  it("admits only the allowed origins; a refused handshake is counted", async () => {
    const server = echo({ wsOrigins: ["https://good.example"] });
    const { port } = await server.listen("ws://127.0.0.1:0/");
    await expect(wsClient(`ws://127.0.0.1:${port}/`, { origin: "https://evil.example" })).rejects.toThrow(
      "HTTP 403",
    );
    const good = await wsClient(`ws://127.0.0.1:${port}/`, { origin: "https://good.example" });
    good.ws.send("hi");
    await until(() => good.got.length === 1, "the answer");
    expect(server.stats().rejected.get("ws_origin")).toBe(1);
  });

  it("closes with 1009 on a message over --ws-max-message, and counts it", async () => {
    const server = echo({ wsMaxMessageBytes: 100 });
    const { port } = await server.listen("ws://127.0.0.1:0/");
    const client = await wsClient(`ws://127.0.0.1:${port}/`);
    client.ws.send("x".repeat(200));
    expect((await client.closed).code).toBe(1009);
    await until(() => server.stats().errors.get("ERR_FRAME_TOO_LARGE") === 1, "the count");
  });

  it("drops a peer that stops answering pings", async () => {
    const server = echo({ wsPingMs: 100 });
    const { port } = await server.listen("ws://127.0.0.1:0/");
    const client = await wsClient(`ws://127.0.0.1:${port}/`, { autoPong: false });
    expect((await client.closed).code).toBe(1006);
    await until(() => server.peers().length === 0, "the peer to go");
  });

  it("shares --max-connections with the TCP door and drains both at shutdown", async () => {
    const server = echo({ limits: { maxConnections: 2 } });
    const tcp = await server.listen("127.0.0.1:0");
    const ws = await server.listen("ws://127.0.0.1:0/");
    const nc = await connectClient(tcp.port);
    nc.send("tcp");
    await nc.waitFor((d) => d.toString() === "ECHO: tcp\n");
    const inside = await wsClient(`ws://127.0.0.1:${ws.port}/`);
    const refused = await wsClient(`ws://127.0.0.1:${ws.port}/`);
    expect((await refused.closed).code).toBe(1000);
    expect(refused.got.map((m) => String(m.data))).toEqual(["ERROR: too many connections (limit 2)"]);
    inside.ws.send("still served");
    await until(() => inside.got.length === 1, "the answer");
    await server.shutdown({ drainTimeoutMs: 2000 });
    expect((await inside.closed).code).toBe(1000);
    expect(inside.got.map((m) => String(m.data))).toEqual([
      "ECHO: still served",
      "NOTICE: server shutting down",
    ]);
    await nc.waitFor((d) => d.toString().endsWith("NOTICE: server shutting down\n"));
  });
});
