// /api/peers and /api/stats follow connects and disconnects on the real CLI.
import { afterEach, describe, expect, it } from "vitest";
import type { PeerInfo } from "../../src/core/connection.js";
import type { PeersSnapshot, StatsSnapshot } from "../../src/observability/snapshot.js";
import { adminGet, adminJson, eventually } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";

let cli: RunningCli | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

describe("echoplex echo --admin: /api/peers and /api/stats", () => {
  it("lists every connection and forgets the ones that leave", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 });
    const admin = cli.ports.admin!;
    expect(await adminJson<PeersSnapshot>(admin, "/api/peers")).toEqual({ total: 0, peers: [] });

    const a = await connectClient(cli.ports.echo!);
    const b = await connectClient(cli.ports.echo!);
    clients.push(a, b);
    a.send("hello");
    expect(await a.readLine()).toBe("ECHO: hello");

    let peers: PeerInfo[] = [];
    await eventually(async () => {
      peers = (await adminJson<PeersSnapshot>(admin, "/api/peers")).peers;
      return peers.length === 2;
    }, "two peers");
    const byPort = new Map(peers.map((p) => [p.remotePort, p]));
    const pa = byPort.get(a.socket.localPort!)!;
    const pb = byPort.get(b.socket.localPort!)!;
    expect(pa).toMatchObject({
      service: "echo",
      remoteAddress: "127.0.0.1",
      tls: false,
      status: "open",
      bytesIn: 6,
      bytesOut: 12,
      messagesIn: 1,
      messagesOut: 1,
    });
    expect(pb).toMatchObject({ service: "echo", bytesIn: 0, bytesOut: 0, messagesIn: 0 });
    expect(Date.parse(pa.connectedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(pa.idleMs).toBeGreaterThanOrEqual(0);
    expect(pa.id).not.toBe(pb.id);

    const limited = await adminJson<PeersSnapshot>(admin, "/api/peers?limit=1");
    expect(limited.total).toBe(2);
    expect(limited.peers).toHaveLength(1);
    expect((await adminGet(admin, "/api/peers?limit=x")).status).toBe(400);

    a.destroy();
    await eventually(async () => {
      peers = (await adminJson<PeersSnapshot>(admin, "/api/peers")).peers;
      return peers.length === 1;
    }, "one peer left");
    expect(peers[0]!.remotePort).toBe(b.socket.localPort);

    const stats = await adminJson<StatsSnapshot>(admin, "/api/stats");
    expect(stats.ready).toBe(true);
    expect(stats.totals).toMatchObject({
      connectionsActive: 1,
      connectionsOpened: 2,
      bytesIn: 6,
      bytesOut: 12,
      messagesIn: 1,
      messagesOut: 1,
    });
    expect(stats.services).toHaveLength(1);
    expect(stats.services[0]).toMatchObject({
      service: "echo",
      address: `127.0.0.1:${cli.ports.echo}`,
      draining: false,
      connectionsActive: 1,
    });
  });

  it("answers unknown paths with 404 and other methods with 405", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 });
    const admin = cli.ports.admin!;
    expect((await adminGet(admin, "/nope")).status).toBe(404);
    const res = await fetch(`http://127.0.0.1:${admin}/metrics`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});
