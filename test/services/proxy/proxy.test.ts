// `echoplex proxy` with real clients: redis-cli through the proxy to a real redis-server
// (with and without a latency fault), faults per direction through the admin API, and a
// client that does not read: the proxy pauses the upstream and its memory stays bounded.
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { adminGet, adminJson, parseMetrics } from "../../helpers/admin.js";
import { type RunningCli, runCli } from "../../helpers/cli.js";
import { connectClient, type TestClient } from "../../helpers/net.js";
import { proxySuite } from "../../helpers/proxy-suite.js";
import { pingMs, run } from "./ping.js";

const suite = proxySuite();

function proxy(to: number, ...args: string[]): Promise<RunningCli> {
  return suite.start(
    ["proxy", "127.0.0.1:0", "--to", `127.0.0.1:${to}`, "--admin", "0", "--log-level", "warn", ...args],
    2,
  );
}

async function metric(admin: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const samples = parseMetrics((await adminGet(admin, "/metrics")).body);
  const hit = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return hit?.value ?? 0;
}

describe("echoplex proxy", () => {
  it("redis-cli PING answers through the proxy; latency=50ms makes it at least 50 ms slower", async () => {
    const direct = await pingMs(suite.redis.port);
    const plain = await proxy(suite.redis.port);
    const { stdout } = await run("redis-cli", ["-p", String(plain.ports.proxy), "SET", "k", "v"]);
    expect(stdout.trim()).toBe("OK");
    expect((await run("redis-cli", ["-p", String(plain.ports.proxy), "GET", "k"])).stdout.trim()).toBe("v");
    await plain.stop();
    const slowed = await proxy(suite.redis.port, "--fault", "latency=50ms");
    const through = await pingMs(slowed.ports.proxy!);
    expect(through - direct).toBeGreaterThanOrEqual(50);
    expect(await metric(slowed.ports.admin!, "echoplex_proxy_upstream_connections_total")).toBe(5);
  });

  it("faults per direction through the admin API; peers show the upstream", async () => {
    const p = await proxy(suite.redis.port);
    const admin = p.ports.admin!;
    const client = await connectClient(p.ports.proxy!);
    try {
      client.write("PING\r\n");
      await client.waitFor((d) => d.toString() === "+PONG\r\n");
      const peers = await adminJson<{ peers: Array<{ details: Record<string, unknown> }> }>(
        admin,
        "/api/peers",
      );
      expect(peers.peers[0]!.details).toMatchObject({
        upstream: `127.0.0.1:${suite.redis.port}`,
        bytesUp: 6,
        bytesDown: 7,
      });
      const res = await fetch(`http://127.0.0.1:${admin}/api/faults`, {
        method: "POST",
        body: JSON.stringify({ fault: "up:latency=300ms" }),
      });
      expect(res.status).toBe(201);
      const start = performance.now();
      client.write("PING\r\n");
      await client.waitFor((d) => d.toString() === "+PONG\r\n+PONG\r\n");
      expect(performance.now() - start).toBeGreaterThanOrEqual(300);
      expect(await metric(admin, "echoplex_faults_applied_total", { fault: "latency" })).toBe(1);

      // The toxiproxy-like routes: the proxy listed with its faults; a down fault added and removed.
      const listed = await adminJson<{ proxies: Array<Record<string, unknown>> }>(admin, "/api/proxies");
      expect(listed.proxies).toEqual([
        {
          name: "proxy",
          listen: `127.0.0.1:${p.ports.proxy}`,
          summary: `to 127.0.0.1:${suite.redis.port}`,
          faults: [{ id: expect.any(Number), kind: "latency", direction: "up", fault: "up:latency=300ms" }],
        },
      ]);
      const down = await fetch(`http://127.0.0.1:${admin}/api/proxies/proxy/faults`, {
        method: "POST",
        body: JSON.stringify({ fault: "down:latency=400ms" }),
      });
      expect(down.status).toBe(201);
      const { id } = ((await down.json()) as { added: Array<{ id: number }> }).added[0]!;
      const slower = performance.now();
      client.write("PING\r\n");
      await client.waitFor((d) => d.toString().split("+PONG").length === 4);
      expect(performance.now() - slower).toBeGreaterThanOrEqual(700);
      const removed = await fetch(`http://127.0.0.1:${admin}/api/proxies/proxy/faults/${id}`, {
        method: "DELETE",
      });
      expect(removed.status).toBe(200);
      expect(
        (await fetch(`http://127.0.0.1:${admin}/api/proxies/nope/faults`, { method: "DELETE" })).status,
      ).toBe(404);
    } finally {
      client.destroy();
    }
  });

  it("a client that does not read pauses the upstream; the proxy's memory stays bounded", async () => {
    // An upstream that sends as fast as it may, up to 512 MiB: without backpressure the
    // proxy would hold nearly all of it.
    let written = 0;
    const LIMIT = 512 * 1024 * 1024;
    const block = Buffer.alloc(64 * 1024, "x");
    const source: Server = createServer((socket: Socket) => {
      socket.on("error", () => {});
      const pump = () => {
        while (written < LIMIT && !socket.destroyed) {
          written += block.length;
          if (!socket.write(block)) return void socket.once("drain", pump);
        }
      };
      pump();
    });
    await new Promise<void>((resolve) => source.listen(0, "127.0.0.1", resolve));
    const port = (source.address() as { port: number }).port;
    let client: TestClient | undefined;
    try {
      const p = await proxy(port);
      client = await connectClient(p.ports.proxy!);
      client.socket.pause();
      const deadline = Date.now() + 20_000;
      while ((await metric(p.ports.admin!, "echoplex_proxy_paused_upstreams")) < 1) {
        if (Date.now() > deadline) throw new Error("the upstream was never paused");
        await new Promise((r) => setTimeout(r, 50));
      }
      // Let whatever the kernels buffer settle: written stops growing.
      let before = -1;
      while (written !== before && Date.now() < deadline) {
        before = written;
        await new Promise((r) => setTimeout(r, 300));
      }
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.proc.pid}/status`, "utf8"))![1]);
      const seen = `upstream wrote ${(written / 1048576).toFixed(1)} MiB, proxy RSS ${(rssKb / 1024).toFixed(0)} MiB`;
      expect(written, seen).toBeLessThan(64 * 1024 * 1024);
      expect(rssKb, seen).toBeLessThan(200 * 1024);
      if (process.env.ECHOPLEX_TEST_VERBOSE) console.log(seen);
      // Reading again resumes the flow.
      const at = written;
      client.socket.resume();
      while (written <= at + 8 * 1024 * 1024 && Date.now() < deadline + 20_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(written).toBeGreaterThan(at + 8 * 1024 * 1024);
    } finally {
      client?.destroy();
      await new Promise<void>((resolve) => source.close(() => resolve()));
    }
  });

  it("refuses to start without --to (exit 2)", async () => {
    const result = await runCli(["proxy", "127.0.0.1:0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--to HOST:PORT/);
  });
});
