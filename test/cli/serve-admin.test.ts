// `echoplex serve --admin`: one admin endpoint over every service, each labelled by
// service; `admin:` in the config file; the start-up table's admin row.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PeersSnapshot, StatsSnapshot } from "../../src/observability/snapshot.js";
import { adminGet, adminJson, eventually, metric, scrape } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { httpGet } from "../helpers/http.js";
import { connectClient, type TestClient } from "../helpers/net.js";

let dir: string;
let clis: RunningCli[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "echoplex-serve-admin-"));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(clis.map((c) => c.stop("SIGKILL")));
  clis = [];
});

async function configFile(name: string, config: object): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config));
  return file;
}

const services = {
  echo: { address: "127.0.0.1:0" },
  http: { address: "127.0.0.1:0", delay: "100ms" },
};

describe("echoplex serve --admin", () => {
  it("serves one endpoint with every service's metrics, stats and peers, labelled by service", async () => {
    const file = await configFile("two.json", { services });
    const cli = await startCli(["serve", "--config", file, "--admin", "0", "--log-level", "warn"], {
      count: 3,
    });
    clis.push(cli);
    const admin = cli.ports.admin!;
    await expect
      .poll(() => cli.stdout())
      .toMatch(
        new RegExp(
          `^echoplex admin +listening on 127\\.0\\.0\\.1:${admin} +\\(status page http://127\\.0\\.0\\.1:${admin}/`,
          "m",
        ),
      );

    const echo = await connectClient(cli.ports.echo!);
    clients.push(echo);
    for (const word of ["one", "two"]) {
      echo.send(word);
      expect(await echo.readLine()).toBe(`ECHO: ${word}`);
    }
    expect((await httpGet(`http://127.0.0.1:${cli.ports.http}/`)).body).toBe("Hello World!");

    await eventually(
      async () => metric(await scrape(admin), "echoplex_connections_active", { service: "http" }) === 0,
      "the HTTP client to be gone",
    );
    const s = await scrape(admin);
    expect(metric(s, "echoplex_connections_opened_total", { service: "echo" })).toBe(1);
    expect(metric(s, "echoplex_connections_opened_total", { service: "http" })).toBe(1);
    expect(metric(s, "echoplex_connections_active", { service: "echo" })).toBe(1);
    expect(metric(s, "echoplex_messages_received_total", { service: "echo" })).toBe(2);
    expect(metric(s, "echoplex_received_bytes_total", { service: "echo" })).toBe(8);
    expect(metric(s, "echoplex_sent_bytes_total", { service: "echo" })).toBe(20);
    expect(metric(s, "echoplex_messages_received_total", { service: "http" })).toBe(1);
    expect(metric(s, "echoplex_messages_sent_total", { service: "http" })).toBe(1);
    expect(metric(s, "echoplex_http_responses_total", { service: "http", code: "200" })).toBe(1);
    expect(metric(s, "echoplex_reply_latency_seconds_count", { service: "http" })).toBe(1);
    expect(metric(s, "echoplex_reply_latency_seconds_count", { service: "echo" })).toBeGreaterThanOrEqual(1);

    const stats = await adminJson<StatsSnapshot>(admin, "/api/stats");
    expect(stats.services.map((x) => x.service)).toEqual(["echo", "http"]);
    expect(stats.totals.messagesIn).toBe(3);

    const peers = await adminJson<PeersSnapshot>(admin, "/api/peers");
    expect(peers.total).toBe(1);
    expect(peers.peers[0]).toMatchObject({ service: "echo", messagesIn: 2, messagesOut: 2 });

    expect(await cli.stop("SIGTERM")).toBe(0);
  }, 30_000);

  it("with workers: 2 in the config, aggregates both services over the workers and prints one table", async () => {
    const file = await configFile("workers.json", { workers: 2, services });
    const cli = await startCli(["serve", "--config", file, "--admin", "0", "--log-level", "warn"], {
      count: 3,
      timeoutMs: 20_000,
    });
    clis.push(cli);
    const admin = cli.ports.admin!;
    expect(cli.stdout()).toMatch(/echoplex echo +listening on 127\.0\.0\.1:\d+ .*\[2 workers\]/);
    await expect
      .poll(() => cli.stdout())
      .toMatch(/^echoplex admin +listening on 127\.0\.0\.1:\d+ +\(status page.*\[all 2 workers\]/m);

    const echo = await connectClient(cli.ports.echo!);
    clients.push(echo);
    echo.send("one");
    expect(await echo.readLine()).toBe("ECHO: one");
    expect((await httpGet(`http://127.0.0.1:${cli.ports.http}/`)).body).toBe("Hello World!");

    await eventually(async () => {
      const s = await scrape(admin);
      return (
        metric(s, "echoplex_messages_received_total", { service: "echo" }) === 1 &&
        metric(s, "echoplex_messages_sent_total", { service: "http" }) === 1
      );
    }, "both services' counts in the aggregated /metrics");
    // Both workers listen (and would have printed a table by now if they did).
    await eventually(
      async () => (await adminJson<StatsSnapshot>(admin, "/api/stats")).workers?.length === 2,
      "both workers to answer",
      20_000,
    );
    const stats = await adminJson<StatsSnapshot>(admin, "/api/stats");
    expect(stats.services.map((x) => x.service).sort()).toEqual(["echo", "http"]);
    // Only the primary prints the table.
    expect(cli.stdout().match(/^echoplex echo /gm)).toHaveLength(1);
    expect(await cli.stop("SIGTERM")).toBe(0);
  }, 40_000);

  it("takes the admin endpoint and its token from the config file", async () => {
    const file = await configFile("admin.json", {
      admin: { address: "127.0.0.1:0", token: "s3cret" },
      services: { echo: services.echo },
    });
    const cli = await startCli(["serve", "--config", file, "--log-level", "warn"], { count: 2 });
    clis.push(cli);
    const admin = cli.ports.admin!;
    expect(cli.stdout()).toMatch(/token required/);
    expect((await adminGet(admin, "/metrics")).status).toBe(401);
    const s = await scrape(admin, { Authorization: "Bearer s3cret" });
    expect(metric(s, "echoplex_connections_opened_total", { service: "echo" })).toBe(0);
  });

  it("suggests --admin in its table when it is off, and names a bad admin address in the config", async () => {
    const file = await configFile("off.json", { services: { echo: services.echo } });
    const cli = await startCli(["serve", "--config", file, "--log-level", "warn"]);
    clis.push(cli);
    await expect
      .poll(() => cli.stdout())
      .toMatch(/^echoplex admin +off +\(add --admin 127\.0\.0\.1:9090 for metrics/m);
    expect(cli.stdout()).not.toMatch(/echoplex admin +listening/);

    const bad = await configFile("bad.json", { admin: { address: "nowhere:port" } });
    const { code, stderr } = await runCli(["serve", "--config", bad]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/admin\.address: /);
  });
});
