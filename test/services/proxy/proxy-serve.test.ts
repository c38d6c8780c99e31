// `echoplex serve` runs the proxy like any other service when its config names it (it
// needs its upstream, so a plain `serve` leaves it out): redis-cli through it to a real
// redis-server, its faults from the config, more proxies created through the admin API.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adminCurl } from "../../helpers/admin.js";
import { runCli } from "../../helpers/cli.js";
import { proxySuite } from "../../helpers/proxy-suite.js";
import { pingMs, run } from "./ping.js";

const suite = proxySuite();

async function configFile(config: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "echoplex-serve-proxy-")), "serve.json");
  await writeFile(file, JSON.stringify(config));
  return file;
}

describe("echoplex serve with a proxy entry", () => {
  it("forwards redis-cli to redis-server with the entry's fault, beside echo; POST /api/proxies adds one", async () => {
    const file = await configFile({
      admin: { address: "127.0.0.1:0" },
      log: { level: "warn" },
      services: {
        echo: { address: "127.0.0.1:0" },
        proxy: {
          address: "127.0.0.1:0",
          to: `127.0.0.1:${suite.redis.port}`,
          faults: ["down:latency=100ms"],
        },
      },
    });
    const cli = await suite.start(["serve", "--config", file], 3);
    expect(cli.stdout()).toMatch(
      new RegExp(
        `^echoplex proxy +listening on 127\\.0\\.0\\.1:\\d+ +\\(to 127\\.0\\.0\\.1:${suite.redis.port}\\)`,
        "m",
      ),
    );
    const proxyPort = cli.ports.proxy!;
    expect((await run("redis-cli", ["-p", String(proxyPort), "SET", "served", "yes"])).stdout.trim()).toBe(
      "OK",
    );
    expect((await run("redis-cli", ["-p", String(suite.redis.port), "GET", "served"])).stdout.trim()).toBe(
      "yes",
    );
    const direct = await pingMs(suite.redis.port);
    expect((await pingMs(proxyPort)) - direct).toBeGreaterThanOrEqual(100);

    const admin = cli.ports.admin!;
    const created = await adminCurl(admin, "POST", "/api/proxies", {
      body: JSON.stringify({
        name: "redis2",
        listen: "127.0.0.1:0",
        upstream: `127.0.0.1:${suite.redis.port}`,
      }),
    });
    expect(created.status, created.body).toBe(201);
    const listed = JSON.parse((await adminCurl(admin, "GET", "/api/proxies")).body) as {
      proxies: Array<{ name: string }>;
    };
    expect(listed.proxies.map((p) => p.name)).toEqual(["proxy", "redis2"]);
    expect(await cli.stop()).toBe(0);
  });

  it("a proxy entry without its upstream is a config error (exit 2) unless admin: lets it start empty", async () => {
    const bare = await configFile({ services: { proxy: { address: "127.0.0.1:0" } } });
    const refused = await runCli(["serve", "--config", bare]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toEqual([
      "echoplex: error: proxy needs its upstream: --to HOST:PORT (to: in a serve config) (ERR_BAD_OPTION)",
    ]);
    const noAdmin = await runCli(["serve", "--config", await configFile({ services: { proxy: {} } })]);
    expect(noAdmin.code).toBe(2);
    expect(noAdmin.stderr).toMatch(/services\.proxy: needs "to" .* or admin: to start empty/);

    const empty = await configFile({
      admin: { address: "127.0.0.1:0" },
      log: { level: "warn" },
      services: { echo: { address: "127.0.0.1:0" }, proxy: {} },
    });
    const cli = await suite.start(["serve", "--config", empty], 2);
    expect(cli.stdout()).not.toMatch(/echoplex proxy/);
    const created = await adminCurl(cli.ports.admin!, "POST", "/api/proxies", {
      body: JSON.stringify({
        name: "redis",
        listen: "127.0.0.1:0",
        upstream: `127.0.0.1:${suite.redis.port}`,
      }),
    });
    expect(created.status, created.body).toBe(201);
    const port = Number(/:(\d+)$/.exec((JSON.parse(created.body) as { listen: string }).listen)![1]);
    expect((await run("redis-cli", ["-p", String(port), "PING"])).stdout.trim()).toBe("PONG");
  });
});
