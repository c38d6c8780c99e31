// The HTTP responder as a library, against node:http clients over real loopback sockets.
import { Agent } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHttpResponder,
  type HttpResponder,
  type HttpResponderOptions,
} from "../../../src/services/http/index.js";
import { httpGet } from "../../helpers/http.js";

let servers: HttpResponder[] = [];

async function start(options: HttpResponderOptions): Promise<{ server: HttpResponder; base: string }> {
  const server = createHttpResponder(options);
  servers.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  return { server, base: `http://127.0.0.1:${port}` };
}

afterEach(async () => {
  await Promise.all(servers.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
  servers = [];
});

/** Sends raw bytes and collects everything until the server closes. */
function rawExchange(port: number, data: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(got)}`));
    }, timeoutMs);
    socket.on("data", (d) => {
      got += d.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.write(data);
  });
}

describe("http responder", () => {
  it("answers Hello World! after the delay, with configured headers", async () => {
    const { base } = await start({
      delayMs: 300,
      headers: [
        ["X-Test", "a"],
        ["X-Test", "b"],
      ],
    });
    const res = await httpGet(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.body).toBe("Hello World!");
    expect(res.headers["x-test"]).toBe("a, b");
    expect(res.ms).toBeGreaterThanOrEqual(280);
  });

  it("keeps connections alive between requests", async () => {
    const { base, server } = await start({ delayMs: 50 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const a = await httpGet(`${base}/`, { agent });
    const b = await httpGet(`${base}/`, { agent });
    expect(b.localPort).toBe(a.localPort);
    expect(server.counts.connectionsOpened).toBe(1);
    expect(server.counts.requests).toBe(2);
    expect([...server.connections.values()][0]?.requests).toBe(2);
    agent.destroy();
  });

  it("applies /delay, /status, query overrides, /echo and /healthz", async () => {
    // A long default delay, so "answered well before it" holds even on a loaded machine.
    const { base } = await start({ delayMs: 10_000, status: 200 });
    const health = await httpGet(`${base}/healthz`);
    expect(health).toMatchObject({ status: 200, body: "ok\n" });
    expect(health.ms).toBeLessThan(8000);

    const status = await httpGet(`${base}/status/503?delay=0`);
    expect(status.status).toBe(503);
    expect(status.body).toBe("Hello World!");

    const delayed = await httpGet(`${base}/delay/0.4`);
    expect(delayed.status).toBe(200);
    expect(delayed.ms).toBeGreaterThanOrEqual(380);
    expect(delayed.ms).toBeLessThan(8000);

    const echo = await httpGet(`${base}/echo?delay=100ms&status=201`, {
      body: "payload",
      headers: { "x-mine": "yes" },
    });
    expect(echo.status).toBe(201);
    expect(echo.headers["content-type"]).toBe("application/json");
    const json = JSON.parse(echo.body) as Record<string, unknown>;
    expect(json).toMatchObject({ method: "POST", path: "/echo", body: "payload" });
    expect((json.headers as Record<string, string>)["x-mine"]).toBe("yes");
  });

  it("refuses delays over --max-delay and bad statuses with a 400 that says why", async () => {
    const { base } = await start({ delayMs: 0, maxDelayMs: 5000 });
    const capped = await httpGet(`${base}/delay/10`); // refused at once, not after 10 s
    expect(capped.status).toBe(400);
    expect(capped.body).toBe("delay 10s exceeds the maximum 5s (--max-delay)\n");
    expect(capped.ms).toBeLessThan(8000);
    const bad = await httpGet(`${base}/status/42`);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("bad status");
  });

  it("refuses a default delay over the cap at construction", () => {
    expect(() => createHttpResponder({ delayMs: 120_000 })).toThrow(/exceeds the maximum delay/);
  });

  it("answers 413 to a body over --max-body", async () => {
    const { base } = await start({ delayMs: 0, maxBodyBytes: 1024 });
    const res = await httpGet(`${base}/echo`, { body: "x".repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body).toContain("exceeds 1024 bytes");
  });

  it("answers 408 to a client that never finishes its headers", async () => {
    const { server } = await start({ delayMs: 0, headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const reply = await rawExchange(server.address!.port, "GET / HTTP/1.1\r\nHost: x\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(server.counts.errors.get("ERR_HTTP_REQUEST_TIMEOUT")).toBe(1);
  });

  it("answers 400 to a malformed request and 431 to oversized headers", async () => {
    const { server } = await start({ delayMs: 0 });
    const garbage = await rawExchange(server.address!.port, "NOT HTTP AT ALL\r\n\r\n");
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*malformed request/);
    const huge = await rawExchange(
      server.address!.port,
      `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
  });

  it("answers 503 beyond --max-connections while the others are served", async () => {
    const { server, base } = await start({ delayMs: 1000, maxConnections: 2 });
    const first = [httpGet(`${base}/`), httpGet(`${base}/`)];
    while (server.connections.size < 2) await new Promise((r) => setTimeout(r, 20));
    const refused = await httpGet(`${base}/`);
    expect(refused.status).toBe(503);
    expect(refused.body).toBe("too many connections (limit 2)\n");
    for (const res of await Promise.all(first)) expect(res.body).toBe("Hello World!");
    expect(server.counts.rejected.get("max_connections")).toBe(1);
  });

  it("answers 1,000 concurrent requests with a 2 s delay in about 2 s", async () => {
    const { base } = await start({ delayMs: 2000 });
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () => httpGet(`${base}/`, { timeoutMs: 30_000 })),
    );
    const elapsed = Date.now() - started;
    expect(answers.every((a) => a.status === 200 && a.body === "Hello World!")).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    // One at a time would take 2,000 s; a generous bound for a shared, busy machine.
    expect(elapsed).toBeLessThan(10_000);
  }, 60_000);

  it("on shutdown finishes the delayed requests it accepted, then closes", async () => {
    const { server, base } = await start({ delayMs: 800 });
    const agent = new Agent({ keepAlive: true });
    const idle = await httpGet(`${base}/delay/0`, { agent }); // leaves an idle keep-alive connection
    expect(idle.status).toBe(200);
    const inflight = Array.from({ length: 20 }, () => httpGet(`${base}/`));
    while (server.inflight < 20) await new Promise((r) => setTimeout(r, 20));
    const stopping = server.shutdown();
    const answers = await Promise.all(inflight);
    await stopping;
    expect(answers.map((a) => a.body)).toEqual(Array(20).fill("Hello World!"));
    expect(answers.every((a) => a.headers.connection === "close")).toBe(true);
    expect(server.connections.size).toBe(0);
    await expect(httpGet(`${base}/`, { timeoutMs: 2000 })).rejects.toThrow();
    agent.destroy();
  });

  it("force-closes after the drain timeout", async () => {
    const { server, base } = await start({ delayMs: 30_000 });
    const slow = httpGet(`${base}/`).catch((err: Error) => err);
    while (server.inflight < 1) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await server.shutdown({ drainTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(15_000); // the point: not the 30 s delay
    expect(await slow).toBeInstanceOf(Error);
  });
});
