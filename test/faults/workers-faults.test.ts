// Faults changed at run time under --workers: the primary relays POST/DELETE /api/faults
// to every worker and answers once all applied it; fresh connections on every worker see
// the latency, then none do; a restarted worker takes the faults of the group.
import { afterEach, describe, expect, it } from "vitest";
import type { PeersSnapshot, StatsSnapshot } from "../../src/observability/snapshot.js";
import { adminCurl, adminJson, eventually } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";

const TOKEN = "workers-fault-token";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const LATENCY_MS = 200;
let cli: RunningCli | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

const api = (admin: number, method: string, path: string, body?: unknown) =>
  adminCurl(admin, method, path, {
    token: TOKEN,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function workerPids(admin: number): Promise<number[]> {
  const stats = await adminJson<StatsSnapshot>(admin, "/api/stats", AUTH);
  return (stats.workers ?? []).map((w) => w.pid).sort();
}

/** One fresh connection's round trip, and the worker that holds it. */
async function freshRoundTrip(admin: number, port: number): Promise<{ ms: number; worker: number }> {
  const c = await connectClient(port);
  clients.push(c);
  const start = performance.now();
  c.send("ping");
  expect(await c.readLine()).toBe("ECHO: ping");
  const ms = performance.now() - start;
  const peers = await adminJson<PeersSnapshot>(admin, "/api/peers", AUTH);
  const mine = peers.peers.find((p) => p.remotePort === c.socket.localPort);
  c.destroy();
  return { ms, worker: mine?.worker ?? 0 };
}

/** Fresh connections until every worker in `pids` held at least two (bounded). */
async function acrossWorkers(admin: number, port: number, pids: number[]) {
  const trips: Array<{ ms: number; worker: number }> = [];
  const count = (pid: number) => trips.filter((t) => t.worker === pid).length;
  for (let i = 0; i < 60 && !pids.every((pid) => count(pid) >= 2); i++) {
    trips.push(await freshRoundTrip(admin, port));
  }
  for (const pid of pids) expect(count(pid), `connections on worker ${pid}`).toBeGreaterThanOrEqual(2);
  return trips;
}

/** `echoplex echo --workers 2 --admin`, once both workers listen. */
async function startGroup(): Promise<{ admin: number; port: number }> {
  const args = ["echo", "127.0.0.1:0", "--workers", "2", "--admin", "0", "--admin-token", TOKEN];
  cli = await startCli([...args, "--log-level", "warn"], { count: 2 });
  const admin = cli.ports.admin!;
  await eventually(async () => (await workerPids(admin)).length === 2, "both workers to listen", 20_000);
  return { admin, port: cli.port };
}

describe("--workers 2: faults changed at run time", () => {
  it("POST latency=200ms reaches every worker's fresh connections; DELETE removes it from all", async () => {
    const { admin, port } = await startGroup();
    const pids = await workerPids(admin);

    const added = await api(admin, "POST", "/api/faults", { fault: `latency=${LATENCY_MS}ms` });
    expect(added.status, added.body).toBe(201);
    const { id } = (JSON.parse(added.body) as { added: Array<{ id: number }> }).added[0]!;
    const slowed = await acrossWorkers(admin, port, pids);
    for (const t of slowed) {
      expect(t.ms).toBeGreaterThanOrEqual(LATENCY_MS);
      expect(t.ms).toBeLessThan(LATENCY_MS + 5000);
    }
    // One listing for the group: the fault once, its applications summed over the workers.
    const listed = JSON.parse((await api(admin, "GET", "/api/faults")).body) as {
      services: Array<{ faults: Array<{ id: number }>; applied: { latency?: number } }>;
    };
    expect(listed.services[0]!.faults.map((f) => f.id)).toEqual([id]);
    expect(listed.services[0]!.applied.latency).toBe(slowed.length);

    const removed = await api(admin, "DELETE", `/api/faults/${id}`);
    expect(removed.status, removed.body).toBe(200);
    expect(JSON.parse(removed.body)).toEqual({ removed: 1 });
    for (const t of await acrossWorkers(admin, port, pids)) expect(t.ms).toBeLessThan(LATENCY_MS);
    expect((await api(admin, "DELETE", `/api/faults/${id}`)).status).toBe(404);
    // Proxies are not created per worker: a clear 501.
    const create = await api(admin, "POST", "/api/proxies", { name: "x", listen: "127.0.0.1:0" });
    expect(create.status).toBe(501);
    expect(create.body).toMatch(/under --workers/);
  });

  it("a worker restarted after the change takes the group's faults", async () => {
    const { admin, port } = await startGroup();
    const before = await workerPids(admin);
    expect((await api(admin, "POST", "/api/faults", { fault: `latency=${LATENCY_MS}ms` })).status).toBe(201);
    process.kill(before[0]!, "SIGKILL");
    await eventually(
      async () => {
        const now = await workerPids(admin);
        return now.length === 2 && !now.includes(before[0]!);
      },
      "the killed worker to be replaced",
      20_000,
    );
    const after = await workerPids(admin);
    const fresh = after.find((pid) => !before.includes(pid))!;
    // The hand-over follows the new worker's start closely: wait for its listing to show it.
    const trips = await acrossWorkers(admin, port, [fresh]);
    for (const t of trips.filter((x) => x.worker === fresh)) expect(t.ms).toBeGreaterThanOrEqual(LATENCY_MS);
  });
});
