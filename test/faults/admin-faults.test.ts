// /api/faults on the admin endpoint: faults added and removed at run time reach live
// connections, behind the admin token; each application is counted in /metrics.
import { afterEach, describe, expect, it } from "vitest";
import { adminGet, parseMetrics } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";

const TOKEN = "fault-token";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let cli: RunningCli | undefined;
let client: TestClient | undefined;

afterEach(async () => {
  client?.destroy();
  client = undefined;
  await cli?.stop();
  cli = undefined;
});

async function api(
  admin: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${admin}${path}`, {
    method,
    headers: { ...headers, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function roundTrip(c: TestClient, text: string): Promise<number> {
  const start = performance.now();
  c.send(text);
  expect(await c.readLine()).toBe(`ECHO: ${text}`);
  return performance.now() - start;
}

describe("/api/faults", () => {
  it("adds and removes faults on live connections, token-protected, counted in metrics", async () => {
    cli = await startCli(
      ["echo", "127.0.0.1:0", "--admin", "0", "--admin-token", TOKEN, "--log-level", "warn"],
      { count: 2 },
    );
    const admin = cli.ports.admin!;
    client = await connectClient(cli.ports.echo!);
    expect(await roundTrip(client, "before")).toBeLessThan(500);

    // Without the token: refused, and nothing changes.
    expect((await api(admin, "POST", "/api/faults", { fault: "latency=600ms" }, {})).status).toBe(401);
    expect(await roundTrip(client, "still fast")).toBeLessThan(500);

    const added = await api(admin, "POST", "/api/faults", { fault: "latency=600ms" });
    expect(added.status).toBe(201);
    const { id } = (added.json.added as Array<{ id: number }>)[0]!;
    // The connection opened before the fault existed gets it.
    expect(await roundTrip(client, "slowed")).toBeGreaterThanOrEqual(600);

    const listed = await api(admin, "GET", "/api/faults");
    expect(listed.json.services).toEqual([
      {
        service: "echo",
        share: 1,
        faults: [{ id, kind: "latency", fault: "latency=600ms" }],
        applied: { latency: 1 },
      },
    ]);
    const metrics = parseMetrics((await adminGet(admin, "/metrics", AUTH)).body);
    expect(
      metrics.find((s) => s.name === "echoplex_faults_applied_total" && s.labels.fault === "latency")?.value,
    ).toBe(1);

    expect((await api(admin, "DELETE", `/api/faults/${id}`)).status).toBe(200);
    expect(await roundTrip(client, "fast again")).toBeLessThan(500);
    expect((await api(admin, "DELETE", `/api/faults/${id}`)).status).toBe(404);
  });

  it("answers a bad fault with 400 and ERR_FAULT_SYNTAX, an unknown service with 404", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 });
    const admin = cli.ports.admin!;
    const bad = await api(admin, "POST", "/api/faults", { fault: "latency=never" });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "ERR_FAULT_SYNTAX" });
    expect((await api(admin, "POST", "/api/faults", { fault: "drop=1", service: "chat" })).status).toBe(404);
    expect((await api(admin, "POST", "/api/faults", "not an object")).status).toBe(400);
    // The other admin routes still take GET only.
    expect((await api(admin, "POST", "/api/stats")).status).toBe(405);
  });

  it("DELETE /api/faults removes every fault given by --fault", async () => {
    cli = await startCli(
      ["echo", "127.0.0.1:0", "--admin", "0", "--fault", "latency=800ms", "--log-level", "warn"],
      { count: 2 },
    );
    client = await connectClient(cli.ports.echo!);
    expect(await roundTrip(client, "slow")).toBeGreaterThanOrEqual(800);
    expect((await api(cli.ports.admin!, "DELETE", "/api/faults")).json).toEqual({ removed: 1 });
    expect(await roundTrip(client, "fast")).toBeLessThan(700);
  });
});
