// --workers with --admin: the primary runs one endpoint over every worker. Peers of
// all workers in one /api/peers (tagged by worker pid), /metrics totals equal to the
// sum of a scripted session, /readyz 503 while the group drains.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { PeersSnapshot, StatsSnapshot } from "../../src/observability/snapshot.js";
import { adminGet, adminJson, eventually, metric, scrape } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { httpGet } from "../helpers/http.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

let cli: RunningCli | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(/\s+/).map(Number);
}

async function workerPids(pid: number): Promise<number[]> {
  for (let i = 0; i < 150; i++) {
    const pids = childPids(pid);
    if (pids.length === 2) return pids.sort();
    await sleep(100);
  }
  throw new Error("the two workers did not start");
}

describe("--workers 2 --admin", () => {
  it("lists every worker's peers in one /api/peers and sums their counters in /metrics", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--workers", "2", "--admin", "0", "--log-level", "warn"], {
      count: 2,
    });
    expect(cli.stdout()).toMatch(/echoplex admin listening on 127\.0\.0\.1:\d+ .*\[all 2 workers\]/);
    const admin = cli.ports.admin!;
    const workers = await workerPids(cli.proc.pid!);
    // Both workers listening: before that, every connection goes to the first one.
    await eventually(
      async () => (await adminJson<StatsSnapshot>(admin, "/api/stats")).workers?.length === 2,
      "both workers to listen",
      20_000,
    );

    // Connect until both workers hold some of the connections (the kernel picks the
    // worker; a bounded number of tries), each saying one line.
    let bytesIn = 0;
    let bytesOut = 0;
    let seen = new Set<number>();
    for (let i = 0; i < 100 && (seen.size < 2 || clients.length < 6); i++) {
      const c = await connectClient(cli.port);
      clients.push(c);
      const line = `hello ${i}`;
      c.send(line);
      expect(await c.readLine()).toBe(`ECHO: ${line}`);
      bytesIn += line.length + 1;
      bytesOut += line.length + 7;
      if (i % 3 === 2) {
        const p = await adminJson<PeersSnapshot>(admin, "/api/peers");
        seen = new Set(p.peers.map((x) => x.worker ?? 0));
      }
    }
    const n = clients.length;
    expect([...seen].sort()).toEqual(workers);

    const peers = await adminJson<PeersSnapshot>(admin, "/api/peers");
    expect(peers.total).toBe(n);
    expect(peers.peers).toHaveLength(n);
    for (const p of peers.peers) {
      expect(workers).toContain(p.worker);
      expect(p).toMatchObject({ service: "echo", messagesIn: 1, messagesOut: 1 });
    }
    // Every client appears once, whichever worker holds it.
    expect(new Set(peers.peers.map((p) => p.remotePort))).toEqual(
      new Set(clients.map((c) => c.socket.localPort)),
    );
    expect((await adminJson<PeersSnapshot>(admin, "/api/peers?limit=3")).peers).toHaveLength(3);

    const s = await scrape(admin);
    const echo = { service: "echo" };
    expect(metric(s, "echoplex_connections_opened_total", echo)).toBe(n);
    expect(metric(s, "echoplex_connections_active", echo)).toBe(n);
    expect(metric(s, "echoplex_messages_received_total", echo)).toBe(n);
    expect(metric(s, "echoplex_messages_sent_total", echo)).toBe(n);
    expect(metric(s, "echoplex_received_bytes_total", echo)).toBe(bytesIn);
    expect(metric(s, "echoplex_sent_bytes_total", echo)).toBe(bytesOut);
    expect(metric(s, "echoplex_draining", echo)).toBe(0);

    const stats = await adminJson<StatsSnapshot>(admin, "/api/stats");
    expect(stats.totals).toMatchObject({ connectionsActive: n, messagesIn: n, bytesIn, bytesOut });
    expect(stats.workers?.map((w) => w.pid).sort()).toEqual(workers);
    expect(stats.workers?.reduce((sum, w) => sum + w.connectionsActive, 0)).toBe(n);
    expect(stats.ready).toBe(true);

    // Half of the clients leave: both views follow, the traffic stays counted.
    for (const c of clients.splice(0, Math.floor(n / 2))) c.destroy();
    const left = n - Math.floor(n / 2);
    await eventually(
      async () => (await adminJson<PeersSnapshot>(admin, "/api/peers")).total === left,
      "the closed clients to leave /api/peers",
    );
    const after = await scrape(admin);
    expect(metric(after, "echoplex_connections_active", echo)).toBe(left);
    expect(metric(after, "echoplex_connections_opened_total", echo)).toBe(n);
    expect(metric(after, "echoplex_received_bytes_total", echo)).toBe(bytesIn);
  }, 60_000);

  it("answers /readyz 503 while the group drains, finishes the request in flight, exits 0", async () => {
    cli = await startCli(
      // 6 s: the request must still be in flight after several admin round trips below,
      // each through both workers, which take a while on a loaded machine.
      ["http", "127.0.0.1:0", "--workers", "2", "--admin", "0", "--delay", "6s", "--log-level", "warn"],
      { count: 2 },
    );
    const admin = cli.ports.admin!;
    await workerPids(cli.proc.pid!);
    expect((await adminGet(admin, "/readyz")).status).toBe(200);

    const answer = httpGet(`http://127.0.0.1:${cli.port}/`);
    await eventually(
      async () => metric(await scrape(admin), "echoplex_http_requests_inflight", { service: "http" }) === 1,
      "the request to be in flight",
    );
    const peers = await adminJson<PeersSnapshot>(admin, "/api/peers");
    expect(peers.peers[0]?.details).toEqual({ inflight: 1 });

    cli.proc.kill("SIGTERM");
    // The delayed answer (6 s) is still pending while this is checked.
    await eventually(async () => (await adminGet(admin, "/readyz")).status === 503, "/readyz to turn 503");
    expect(JSON.parse((await adminGet(admin, "/readyz")).body)).toEqual({ ready: false, draining: ["http"] });

    // The idle worker has drained and exited; the other still holds the request, and
    // the endpoint answers from it alone.
    await eventually(
      async () => (await adminJson<StatsSnapshot>(admin, "/api/stats")).workers?.length === 1,
      "the idle worker to exit",
    );
    const draining = await scrape(admin);
    expect(metric(draining, "echoplex_http_requests_inflight", { service: "http" })).toBe(1);
    expect(metric(draining, "echoplex_draining", { service: "http" })).toBe(1);

    const res = await answer;
    expect(`${res.status} ${res.body}`).toBe("200 Hello World!");
    expect(await cli.exited).toBe(0);
  }, 30_000);
});
