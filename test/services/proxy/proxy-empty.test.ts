// `echoplex proxy --admin ADDR` alone starts like toxiproxy-server: no proxy, only the
// admin endpoint; proxies are created with curl (POST /api/proxies). Refused creations
// are answered with their code, counted in /metrics and logged at warn.
import { describe, expect, it } from "vitest";
import { adminCurl, metric, parseMetrics } from "../../helpers/admin.js";
import { jsonLogs, runCli } from "../../helpers/cli.js";
import { proxySuite } from "../../helpers/proxy-suite.js";
import { until } from "../../helpers/until.js";
import { run } from "./ping.js";

const TOKEN = "empty-start-token";
const suite = proxySuite();

const emptyProxy = () =>
  suite.start(["proxy", "--admin", "127.0.0.1:0", "--admin-token", TOKEN, "--log-format", "json"], 1);

const api = (admin: number, method: string, path: string, body?: unknown) =>
  adminCurl(admin, method, path, {
    token: TOKEN,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });

const redisProxy = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  listen: "127.0.0.1:0",
  upstream: `127.0.0.1:${suite.redis.port}`,
  ...extra,
});

describe("echoplex proxy started empty (--admin alone)", () => {
  it("starts with no proxy; one created with POST /api/proxies forwards redis-cli; SIGTERM exits 0", async () => {
    const cli = await emptyProxy();
    const admin = cli.ports.admin!;
    expect(cli.stdout()).not.toMatch(/echoplex proxy/);
    expect(JSON.parse((await api(admin, "GET", "/api/proxies")).body)).toEqual({ proxies: [] });

    const created = await api(admin, "POST", "/api/proxies", redisProxy("redis"));
    expect(created.status).toBe(201);
    const port = Number(/:(\d+)$/.exec((JSON.parse(created.body) as { listen: string }).listen)![1]);
    const { stdout } = await run("redis-cli", ["-p", String(port), "PING"]);
    expect(stdout.trim()).toBe("PONG");
    const listed = JSON.parse((await api(admin, "GET", "/api/proxies")).body) as {
      proxies: Array<{ name: string }>;
    };
    expect(listed.proxies.map((p) => p.name)).toEqual(["redis"]);
    expect(await cli.stop()).toBe(0);
  });

  it("LISTEN without --to, neither LISTEN nor --admin, or --fault with no proxy: one usage line and exit 2", async () => {
    const noUpstream = await runCli(["proxy", "127.0.0.1:0"]);
    expect(noUpstream.code).toBe(2);
    expect(noUpstream.stderr.trim().split("\n")).toEqual([
      "echoplex: error: proxy LISTEN needs --to HOST:PORT (the upstream) (ERR_USAGE)",
    ]);
    const nothing = await runCli(["proxy"]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr.trim().split("\n")).toHaveLength(1);
    expect(nothing.stderr).toMatch(/--admin ADDR alone to start empty/);
    // A fault with no proxy to put it on is not silently dropped.
    const faultOnNothing = await runCli(["proxy", "--admin", "127.0.0.1:0", "--fault", "latency=1s"]);
    expect(faultOnNothing.code).toBe(2);
    expect(faultOnNothing.stderr).toMatch(/proxy --fault needs LISTEN --to/);
  });

  it("a refused POST /api/proxies is answered 4xx with its code, counted by code and logged at warn", async () => {
    const cli = await emptyProxy();
    const admin = cli.ports.admin!;
    expect((await api(admin, "POST", "/api/proxies", redisProxy("db"))).status).toBe(201);
    const refusals: Array<[unknown, number, string]> = [
      ["{not json", 400, "ERR_BAD_OPTION"],
      [redisProxy("db"), 409, "ERR_BAD_OPTION"],
      [redisProxy("taken", { listen: `127.0.0.1:${suite.redis.port}` }), 400, "ERR_ADDRESS_IN_USE"],
      [redisProxy("faulty", { faults: ["latency=soon"] }), 400, "ERR_FAULT_SYNTAX"],
    ];
    for (const [body, status, code] of refusals) {
      const reply = await api(admin, "POST", "/api/proxies", body);
      expect(reply.status, reply.body).toBe(status);
      expect(JSON.parse(reply.body).error.code).toBe(code);
    }
    const samples = parseMetrics((await api(admin, "GET", "/metrics")).body);
    const refused = (code: string) =>
      metric(samples, "echoplex_admin_requests_refused_total", { route: "POST /api/proxies", code });
    expect(refused("ERR_BAD_OPTION")).toBe(2);
    expect(refused("ERR_ADDRESS_IN_USE")).toBe(1);
    expect(refused("ERR_FAULT_SYNTAX")).toBe(1);
    // Every refusal logged at warn (level 40) with its status and reason.
    const warned = () =>
      jsonLogs(cli).filter((l) => l.msg === "proxy not created") as unknown as Array<{
        level: number;
        status: number;
        error: { code: string };
      }>;
    await until(() => warned().length >= 4, "four 'proxy not created' warnings");
    expect(warned().map((l) => [l.level, l.status, l.error.code])).toEqual(
      refusals.map(([, status, code]) => [40, status, code]),
    );
    // Nothing half-made stayed behind.
    const names = JSON.parse((await api(admin, "GET", "/api/proxies")).body) as {
      proxies: Array<{ name: string }>;
    };
    expect(names.proxies.map((p) => p.name)).toEqual(["db"]);
  });
});
