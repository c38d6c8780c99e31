// Several doors per service from the command line: `echoplex echo ADDR udp://… unix:…
// ws://…` is one service (one registry, metrics with a transport label, one drain).
// Clients nobody here wrote: nc, nc -U, nc -u, socat, and the ws package's client.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { adminJson, metric, scrape } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { connectClient } from "../helpers/net.js";
import { until } from "../helpers/until.js";

let dir: string;
const clis: RunningCli[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "echoplex-doors-"));
});
afterEach(async () => {
  await Promise.all(clis.splice(0).map((c) => c.stop("SIGKILL")));
  await rm(dir, { recursive: true, force: true });
});

/** Every "echoplex NAME listening on ADDRESS" line: the doors as printed. */
function doorsOf(cli: RunningCli): string[] {
  return [...cli.stdout().matchAll(/listening on (\S+)/g)].map((m) => m[1]!);
}

function run(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    // A child that exits before reading all its input must not fail the run (EPIPE).
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

async function wsOpen(url: string): Promise<{ ws: WebSocket; got: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const got: string[] = [];
  ws.on("message", (data) => got.push(String(data)));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, got, closed };
}

describe("several doors per service", () => {
  it("serves TCP, UDP, a Unix socket and WebSocket as one echo; /api/peers and /metrics name each transport; one SIGTERM drains every door", async () => {
    const sock = join(dir, "echo.sock");
    const cli = await startCli([
      "echo",
      "127.0.0.1:0",
      "udp://127.0.0.1:0",
      `unix:${sock}`,
      "ws://127.0.0.1:0/echo",
      "--admin",
      "127.0.0.1:0",
      "--unix-mode",
      "0660",
      "--log-level",
      "warn",
    ]);
    clis.push(cli);
    await until(() => doorsOf(cli).length === 5, "five listening lines");
    const [tcp, udp, unix, ws] = doorsOf(cli) as [string, string, string, string];
    expect(unix).toBe(`unix:${sock}`);
    expect(udp).toMatch(/^udp:\/\/127\.0\.0\.1:\d+$/);
    expect(ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/echo$/);
    expect((await stat(sock)).mode & 0o777).toBe(0o660);
    const udpPort = udp.split(":").pop()!;
    const tcpPort = Number(tcp.split(":").pop());

    expect(await run("nc", ["-N", "127.0.0.1", String(tcpPort)], "over tcp\n")).toBe("ECHO: over tcp\n");
    expect(await run("nc", ["-U", "-N", sock], "over unix\n")).toBe("ECHO: over unix\n");
    expect(await run("nc", ["-u", "-w", "1", "127.0.0.1", udpPort], "over udp\n")).toBe("ECHO: over udp\n");
    expect(await run("socat", ["-t", "1", "-", `UDP:127.0.0.1:${udpPort}`], "by socat\n")).toBe(
      "ECHO: by socat\n",
    );

    // Peers that stay: the admin endpoint lists each with its transport (a UDP peer stays
    // until --udp-idle: nc's and socat's source ports are two).
    const stays = await connectClient(tcpPort);
    stays.send("hold");
    await stays.waitFor((d) => d.toString() === "ECHO: hold\n");
    const browser = await wsOpen(ws);
    browser.ws.send("over ws");
    await until(() => browser.got.length === 1, "the ws answer");
    expect(browser.got[0]).toBe("ECHO: over ws");
    const admin = cli.ports.admin!;
    const peers = await adminJson<{ peers: Array<{ transport: string }> }>(admin, "/api/peers");
    expect(peers.peers.map((p) => p.transport).sort()).toEqual(["tcp", "udp", "udp", "ws"]);
    const samples = await scrape(admin);
    expect(
      metric(samples, "echoplex_transport_connections_active", { service: "echo", transport: "ws" }),
    ).toBe(1);
    expect(
      metric(samples, "echoplex_transport_connections_opened_total", { service: "echo", transport: "unix" }),
    ).toBe(1);
    expect(
      metric(samples, "echoplex_transport_connections_opened_total", { service: "echo", transport: "udp" }),
    ).toBeGreaterThanOrEqual(1);

    expect(await cli.stop("SIGTERM")).toBe(0);
    await stays.waitFor((d) => d.toString().endsWith("NOTICE: server shutting down\n"));
    expect(await browser.closed).toBe(1000);
    expect(browser.got).toEqual(["ECHO: over ws", "NOTICE: server shutting down"]);
    await expect(stat(sock)).rejects.toThrow();
  }, 40_000);

  it("takes several doors from a serve config's address list", async () => {
    const sock = join(dir, "cmd.sock");
    const config = join(dir, "serve.json");
    await writeFile(
      config,
      JSON.stringify({ services: { cmd: { address: ["127.0.0.1:0", `unix:${sock}`] } } }),
    );
    const cli = await startCli(["serve", "--config", config, "--log-level", "warn"]);
    clis.push(cli);
    await until(() => doorsOf(cli).length === 2, "two listening lines");
    expect(doorsOf(cli)[1]).toBe(`unix:${sock}`);
    expect(await run("nc", ["-U", "-N", sock], "PING\n")).toBe("PONG\n");
    expect(await cli.stop("SIGTERM")).toBe(0);
  }, 30_000);

  it("refuses a UDP door for chat and an unknown scheme, with one line and exit 2", async () => {
    const chat = await runCli(["chat", "udp://127.0.0.1:0", "--log-level", "silent"]);
    expect(chat.code).toBe(2);
    expect(chat.stderr.trim()).toBe(
      "echoplex: error: chat cannot listen on udp://127.0.0.1:0: a chat user needs a connection (tcp://, tls://, unix:, ws://, wss://) (ERR_BAD_ADDRESS)",
    );
    const bad = await runCli(["echo", "sctp://127.0.0.1:1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown scheme "sctp"');
  });
});
