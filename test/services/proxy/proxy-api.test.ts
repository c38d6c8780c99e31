// Proxies created and deleted at run time through the admin API (toxiproxy's
// POST /proxies), driven with curl as a user would, to a real redis-server.
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { adminCurl, type CurlReply, parseMetrics } from "../../helpers/admin.js";
import { jsonLogs, type RunningCli } from "../../helpers/cli.js";
import { connectClient } from "../../helpers/net.js";
import { proxySuite } from "../../helpers/proxy-suite.js";
import { until } from "../../helpers/until.js";
import { pingMs } from "./ping.js";

const TOKEN = "t0ken-for-tests";
const suite = proxySuite();

function proxy(): Promise<RunningCli> {
  return suite.start(
    [
      "proxy",
      "127.0.0.1:0",
      "--to",
      `127.0.0.1:${suite.redis.port}`,
      "--admin",
      "0",
      "--admin-token",
      TOKEN,
      "--log-level",
      "warn",
    ],
    2,
  );
}

/** curl against the admin endpoint with the token, unless `token: null`. */
function curl(
  admin: number,
  method: string,
  path: string,
  options: { body?: string; token?: string | null } = {},
): Promise<CurlReply> {
  const token = options.token === undefined ? TOKEN : options.token;
  return adminCurl(admin, method, path, {
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(token === null ? {} : { token }),
  });
}

/** Resolves with the connect error's code (ECONNREFUSED), or "connected". */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const redisProxy = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name, listen: "127.0.0.1:0", upstream: `127.0.0.1:${suite.redis.port}`, ...extra });

describe("echoplex proxy: proxies created at run time (POST /api/proxies)", () => {
  it("creates a proxy to redis-server, slows it with latency=50ms, deletes it and its port refuses", async () => {
    const p = await proxy();
    const admin = p.ports.admin!;
    const created = await curl(admin, "POST", "/api/proxies", { body: redisProxy("redis") });
    expect(created.status).toBe(201);
    const described = JSON.parse(created.body) as { name: string; listen: string; summary: string };
    expect(described).toMatchObject({
      name: "redis",
      summary: `to 127.0.0.1:${suite.redis.port}`,
      faults: [],
    });
    const port = Number(/:(\d+)$/.exec(described.listen)![1]);
    expect(port).toBeGreaterThan(0);

    const plain = await pingMs(port);
    const fault = await curl(admin, "POST", "/api/proxies/redis/faults", {
      body: JSON.stringify({ fault: "latency=50ms" }),
    });
    expect(fault.status).toBe(201);
    const slowed = await pingMs(port);
    expect(slowed - plain).toBeGreaterThanOrEqual(50);

    // Like the first proxy: listed, in /api/peers while a client is connected, in the metrics.
    const listed = JSON.parse((await curl(admin, "GET", "/api/proxies")).body) as {
      proxies: Array<{ name: string }>;
    };
    expect(listed.proxies.map((x) => x.name)).toEqual(["proxy", "redis"]);
    const client = await connectClient(port);
    try {
      client.write("PING\r\n");
      await client.waitFor((d) => d.toString() === "+PONG\r\n");
      const peers = JSON.parse((await curl(admin, "GET", "/api/peers")).body) as {
        peers: Array<{ service: string; details: Record<string, unknown> }>;
      };
      expect(peers.peers.find((x) => x.service === "redis")?.details).toMatchObject({
        upstream: `127.0.0.1:${suite.redis.port}`,
      });
    } finally {
      client.destroy();
    }
    const samples = parseMetrics((await curl(admin, "GET", "/metrics")).body);
    const opened = samples.find(
      (s) => s.name === "echoplex_proxy_upstream_connections_total" && s.labels.service === "redis",
    );
    expect(opened?.value).toBe(11);

    const deleted = await curl(admin, "DELETE", "/api/proxies/redis");
    expect(deleted.status).toBe(204);
    expect(await tryConnect(port)).toBe("ECONNREFUSED");
    expect((await curl(admin, "DELETE", "/api/proxies/redis")).status).toBe(404);
    const after = JSON.parse((await curl(admin, "GET", "/api/proxies")).body) as {
      proxies: Array<{ name: string }>;
    };
    expect(after.proxies.map((x) => x.name)).toEqual(["proxy"]);
    // The name is free again.
    expect((await curl(admin, "POST", "/api/proxies", { body: redisProxy("redis") })).status).toBe(201);
  });

  it("DELETE drains: a reply on its way back is delivered before the connection closes", async () => {
    const p = await proxy();
    const admin = p.ports.admin!;
    const created = await curl(admin, "POST", "/api/proxies", {
      body: redisProxy("slow", { faults: ["down:latency=500ms"] }),
    });
    expect(created.status).toBe(201);
    const port = Number(/:(\d+)"/.exec(created.body)![1]);
    const client = await connectClient(port);
    try {
      client.write("PING\r\n");
      const deleting = curl(admin, "DELETE", "/api/proxies/slow");
      await client.waitFor((d) => d.toString() === "+PONG\r\n", 10_000);
      expect((await deleting).status).toBe(204);
    } finally {
      client.destroy();
    }
  });

  it("answers 409 on a duplicate name, 400 with the reason on bad input, 401 without the token", async () => {
    const p = await proxy();
    const admin = p.ports.admin!;
    expect((await curl(admin, "POST", "/api/proxies", { body: redisProxy("db") })).status).toBe(201);
    const dup = await curl(admin, "POST", "/api/proxies", { body: redisProxy("db") });
    expect(dup.status).toBe(409);
    expect(JSON.parse(dup.body).error.message).toMatch(/"db" exists/);
    // The proxy started on the command line owns its name too.
    expect((await curl(admin, "POST", "/api/proxies", { body: redisProxy("proxy") })).status).toBe(409);

    const badJson = await curl(admin, "POST", "/api/proxies", { body: "{not json" });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatch(/expected a JSON object/);
    const noUpstream = await curl(admin, "POST", "/api/proxies", {
      body: JSON.stringify({ name: "x", listen: "127.0.0.1:0" }),
    });
    expect(noUpstream.status).toBe(400);
    expect(noUpstream.body).toMatch(/upstream/);
    const badFault = await curl(admin, "POST", "/api/proxies", {
      body: redisProxy("y", { faults: ["latency=soon"] }),
    });
    expect(badFault.status).toBe(400);
    expect(JSON.parse(badFault.body).error.code).toBe("ERR_FAULT_SYNTAX");
    const noPort = await curl(admin, "POST", "/api/proxies", {
      body: JSON.stringify({ name: "z", listen: "127.0.0.1:0", upstream: "127.0.0.1" }),
    });
    expect(noPort.status).toBe(400);
    // Each refusal is logged with its reason.
    const refused = () => jsonLogs(p).filter((l) => l.msg === "proxy not created");
    await until(() => refused().length >= 6, "six 'proxy not created' log lines");
    const refusals = refused();
    expect(refusals.map((l) => (l as unknown as { status: number }).status)).toEqual([
      409, 409, 400, 400, 400, 400,
    ]);

    const anonymous = await curl(admin, "POST", "/api/proxies", { body: redisProxy("sneaky"), token: null });
    expect(anonymous.status).toBe(401);
    expect((await curl(admin, "DELETE", "/api/proxies/db", { token: null })).status).toBe(401);
    const names = JSON.parse((await curl(admin, "GET", "/api/proxies")).body) as {
      proxies: Array<{ name: string }>;
    };
    expect(names.proxies.map((x) => x.name)).toEqual(["proxy", "db"]);
  });
});
