// `echoplex serve` as a child process: every registered service in one process, one shutdown.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { NAMED_ONLY, SERVICES } from "../../src/cli/registry.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { httpGet } from "../helpers/http.js";
import { connectClient } from "../helpers/net.js";
import { tlsExchange } from "../helpers/tls.js";

let dir: string;
let clis: RunningCli[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "echoplex-serve-"));
});

afterEach(async () => {
  await Promise.all(clis.map((c) => c.stop("SIGKILL")));
  clis = [];
});

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** What each service's row says after its address: its describe().summary with the config below. */
const SUMMARIES: Record<string, string> = {
  echo: 'lines, prefix "ECHO: "',
  cmd: "lines",
  chat: "lines, room #lobby",
  sink: "lines, log only",
  http: "delay 300ms, status 200",
};

/** How to check that each registered service answers. A service added to the registry needs one here. */
const PROBES: Record<string, (port: number) => Promise<void>> = {
  async echo(port) {
    const c = await connectClient(port);
    c.send("ping");
    expect(await c.readLine()).toBe("ECHO: ping");
    c.destroy();
  },
  async chat(port) {
    const c = await connectClient(port);
    expect(await c.readLine()).toMatch(/^\* welcome/i);
    c.send("/nick probe");
    await c.waitFor((d) => d.toString().includes("probe"));
    c.destroy();
  },
  async cmd(port) {
    const c = await connectClient(port);
    c.send("PING");
    expect(await c.readLine()).toBe("PONG");
    c.destroy();
  },
  async sink(port) {
    const c = await connectClient(port);
    c.send("recorded");
    c.end();
    await c.readToEnd();
  },
  async http(port) {
    const res = await httpGet(`http://127.0.0.1:${port}/`);
    expect(`${res.status} ${res.body}`).toBe("200 Hello World!");
  },
};

describe("echoplex serve", () => {
  it("starts every registered service, each answers, one SIGTERM stops them all with exit 0", async () => {
    const services = Object.fromEntries(SERVICES.map((s) => [s.name, { address: "127.0.0.1:0" }]));
    const file = await configFile(
      "all.json",
      JSON.stringify({
        // debug: the http service logs each connection, which tells when the request below is in.
        log: { format: "json", level: "debug" },
        services: { ...services, http: { address: "127.0.0.1:0", delay: "300ms" } },
      }),
    );
    const cli = await startCli(["serve", "--config", file], { count: SERVICES.length });
    clis.push(cli);
    expect(Object.keys(cli.ports).sort()).toEqual(SERVICES.map((s) => s.name).sort());
    // One table: a row per service (the listening lines, aligned), then the admin row.
    await expect.poll(() => cli.stdout()).toMatch(/^echoplex admin +off +\(/m);
    for (const s of SERVICES) {
      expect(cli.stdout().match(new RegExp(`^echoplex ${s.name} `, "gm"))).toHaveLength(1);
      expect(cli.stdout()).toMatch(
        new RegExp(`^echoplex ${s.name} +listening on 127\\.0\\.0\\.1:${cli.ports[s.name]} +\\(`, "m"),
      );
      const row = cli
        .stdout()
        .split("\n")
        .find((l) => l.startsWith(`echoplex ${s.name} `));
      expect(row, `the start-up summary of ${s.name}`).toMatch(/\((.*)\)$/);
      expect(/\((.*)\)$/.exec(row!)?.[1]).toBe(SUMMARIES[s.name]);
      const probe = PROBES[s.name];
      expect(probe, `a probe for service ${s.name}`).toBeDefined();
      await probe!(cli.ports[s.name]!);
    }
    // Work in flight in two services when the signal comes: both are finished before exit.
    const echo = await connectClient(cli.ports.echo!);
    const httpConnects = () => cli.stderr().match(/"service":"http"[^\n]*"msg":"connect"/g)?.length ?? 0;
    const before = httpConnects();
    const delayed = httpGet(`http://127.0.0.1:${cli.ports.http}/delay/1`);
    // The signal comes once the server has the request's connection (not after a guessed
    // 300 ms), and the 1 s delay keeps the request in flight past it.
    await expect.poll(httpConnects, { timeout: 15_000 }).toBeGreaterThan(before);
    const code = cli.stop("SIGTERM");
    expect(await echo.readLine()).toBe("NOTICE: server shutting down");
    expect((await delayed).body).toBe("Hello World!");
    expect(await code).toBe(0);
    // One logger for all: both services' shutdown lines are in the one stream.
    expect(cli.stderr()).toMatch(/"service":"echo".*"msg":"shut down"/);
    expect(cli.stderr()).toMatch(/"service":"http".*"msg":"shut down"/);
  });

  it("--only starts the named services; YAML config with per-service TLS and options", async () => {
    const file = await configFile(
      "some.yaml",
      `# two services, only one started
services:
  echo:
    address: 127.0.0.1:0
    prefix: "E> "
    tls:
      selfSigned: true
  http:
    address: 127.0.0.1:0
`,
    );
    const cli = await startCli(["serve", "--config", file, "--only", "echo", "--log-format", "json"]);
    clis.push(cli);
    expect(Object.keys(cli.ports)).toEqual(["echo"]);
    const fingerprint = /echoplex echo TLS self-signed .*SHA-256 fingerprint (\S+)\n/.exec(cli.stdout())?.[1];
    const res = await tlsExchange(cli.port, "hi\n", { insecure: true, until: /\n/ });
    expect(res.data).toBe("E> hi\n");
    expect(res.fingerprint256).toBe(fingerprint);
    expect(await cli.stop()).toBe(0);
  });

  it("skips services with enabled: false", async () => {
    const file = await configFile(
      "enabled.yaml",
      "services:\n  echo: { enabled: false }\n  http: { address: '127.0.0.1:0', delay: 0 }\n",
    );
    const cli = await startCli(["serve", "-c", file, "--log-level", "warn"]);
    clis.push(cli);
    expect(Object.keys(cli.ports)).toEqual(["http"]);
    expect(await cli.stop()).toBe(0);
  });

  it("--host moves every service without a host of its own; a host in the config wins", async () => {
    const file = await configFile(
      "hosts.json",
      JSON.stringify({
        services: {
          echo: { port: 0 },
          cmd: { address: ":0" },
          http: { address: "[::1]:0", delay: 0 },
          sink: { host: "::1", port: 0 },
        },
      }),
    );
    const cli = await startCli(["serve", "--config", file, "--host", "127.0.0.1", "--log-format", "json"], {
      count: 4,
    });
    clis.push(cli);
    const out = cli.stdout();
    expect(out).toMatch(new RegExp(`^echoplex echo +listening on 127\\.0\\.0\\.1:${cli.ports.echo} `, "m"));
    expect(out).toMatch(new RegExp(`^echoplex cmd +listening on 127\\.0\\.0\\.1:${cli.ports.cmd} `, "m"));
    expect(out).toMatch(new RegExp(`^echoplex http +listening on \\[::1\\]:${cli.ports.http} `, "m"));
    expect(out).toMatch(new RegExp(`^echoplex sink +listening on \\[::1\\]:${cli.ports.sink} `, "m"));
    // Each answers where it says, a client of loopback IPv4 or IPv6.
    await PROBES.echo!(cli.ports.echo!);
    await PROBES.cmd!(cli.ports.cmd!);
    const res = await httpGet(`http://[::1]:${cli.ports.http}/`);
    expect(res.status).toBe(200);
    expect(await cli.stop()).toBe(0);

    const bad = await runCli(["serve", "--host", "no such host"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^echoplex: error: bad --host "no such host": .* \(ERR_BAD_ADDRESS\)\n$/);
  });

  it("names the exact field of a config mistake and exits 2", async () => {
    const file = await configFile("bad.yaml", "services:\n  echo:\n    port: abc\n  htp: {}\n");
    const res = await runCli(["serve", "--config", file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      `echoplex: error: ${file}: services.echo.port: expected a number, got "abc"; services.htp: unknown field (ERR_CONFIG)\n`,
    );
    const broken = await configFile("broken.json", '{"services": {');
    const res2 = await runCli(["serve", "--config", broken]);
    expect(res2.code).toBe(2);
    expect(res2.stderr).toMatch(/broken\.json: not valid JSON/);
    const unknown = await runCli(["serve", "--only", "echo,nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      `--only: unknown service "nope" (known: ${[...SERVICES, ...NAMED_ONLY].map((s) => s.name).join(", ")})`,
    );
  });
});
