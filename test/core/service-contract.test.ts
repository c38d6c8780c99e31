// The one service contract (src/core/service.ts) as a library user and the admin
// endpoint see it: every service the package ships is a `Service`, and one exchange
// over a real socket shows up the same way in each one's stats(), peers(), describe()
// and shutdown. The CLI's start-up line is describe().summary (test/cli/serve.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import {
  createChatServer,
  createCmdServer,
  createEchoServer,
  createHttpResponder,
  createSinkServer,
  type Service,
  type ServiceDescription,
} from "../../src/index.js";
import { connectClient, type TestClient } from "../helpers/net.js";

interface Case {
  make(): Service;
  /** One request and its answer, as a user's client would do it. */
  exchange(c: TestClient): Promise<void>;
  description: ServiceDescription;
}

const CASES: Record<string, Case> = {
  echo: {
    make: () => createEchoServer({ prefix: "> " }),
    async exchange(c) {
      c.send("hi");
      expect(await c.readLine()).toBe("> hi");
    },
    description: { name: "echo", framing: "lines", tls: false, summary: 'lines, prefix "> "' },
  },
  cmd: {
    make: () => createCmdServer({ framing: "lines" }),
    async exchange(c) {
      c.send("PING");
      expect(await c.readLine()).toBe("PONG");
    },
    description: { name: "cmd", framing: "lines", tls: false, summary: "lines" },
  },
  chat: {
    make: () => createChatServer({ room: "#tea", password: "s3cret" }),
    async exchange(c) {
      await c.waitFor((d) => /password/i.test(d.toString()));
      c.send("/pass s3cret");
      c.send("/nick probe");
      await c.waitFor((d) => d.toString().includes("probe"));
    },
    description: {
      name: "chat",
      framing: "lines",
      tls: false,
      summary: "lines, room #tea, password required",
    },
  },
  sink: {
    make: () => createSinkServer({ ack: true, framing: "lines" }),
    async exchange(c) {
      c.send("recorded");
      expect(await c.readLine()).toBe("OK 1");
    },
    description: { name: "sink", framing: "lines", tls: false, summary: "lines, log only, ack" },
  },
  http: {
    make: () => createHttpResponder({ delayMs: 0, status: 201 }),
    async exchange(c) {
      c.write("GET / HTTP/1.1\r\nHost: probe\r\n\r\n");
      await c.waitFor((d) => d.toString().includes("Hello World!"));
      expect(c.received.toString()).toMatch(/^HTTP\/1\.1 201 /);
    },
    description: { name: "http", framing: "http", tls: false, summary: "delay 0s, status 201" },
  },
};

const running: Service[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 0 })));
});

describe("every service is a Service", () => {
  it.each(Object.keys(CASES))("%s: listen, stats(), peers(), describe(), shutdown", async (name) => {
    const { make, exchange, description } = CASES[name]!;
    const service = make();
    running.push(service);
    expect(service.service).toBe(name);
    expect(service.address).toBeUndefined();
    expect(service.describe()).toEqual(description);

    const info = await service.listen("127.0.0.1:0");
    expect(service.address).toEqual(info);
    const c = await connectClient(info.port);
    clients.push(c);
    await exchange(c);

    const live = service.stats();
    expect(live).toMatchObject({ connectionsActive: 1, connectionsOpened: 1, tlsHandshakeFailures: 0 });
    expect(live.messagesIn).toBeGreaterThanOrEqual(1);
    expect(live.messagesOut).toBeGreaterThanOrEqual(1);
    expect(live.bytesIn).toBeGreaterThan(0);
    expect(live.bytesOut).toBeGreaterThan(0);
    const peers = service.peers(10);
    expect(peers).toHaveLength(1);
    expect(peers[0]).toMatchObject({ service: name, remoteAddress: "127.0.0.1", status: "open" });
    expect(service.peers(0)).toEqual([]);

    // A peer that leaves is no longer listed, and its traffic stays counted.
    c.destroy();
    await expect.poll(() => service.stats().connectionsActive, { timeout: 10_000 }).toBe(0);
    const after = service.stats();
    expect(after.connectionsOpened).toBe(1);
    expect(after.messagesIn).toBe(live.messagesIn);
    expect(after.bytesIn).toBe(live.bytesIn);
    expect(service.peers()).toEqual([]);

    expect(service.draining).toBe(false);
    const done = service.shutdown({ drainTimeoutMs: 1000 });
    expect(service.draining).toBe(true);
    await done;
  });
});
