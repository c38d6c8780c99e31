// `echoplex bench` over every door: the real CLI against echo (and cmd) servers started
// through the library on unix:, ws:// and udp://. Correctness counts, not speed: every
// reply verified, and over UDP every datagram accounted for (sent = received + lost).
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EchoplexServer } from "../../src/index.js";
import { createCmdServer } from "../../src/services/cmd/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { runCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "echoplex-bench-doors-"));
const sock = join(dir, "echo.sock");
let echo: EchoplexServer<undefined>;
let cmd: EchoplexServer<undefined>;
let wsUrl = "";
let udpTarget = "";
let cmdWsUrl = "";

beforeAll(async () => {
  echo = createEchoServer();
  await echo.listen(`unix:${sock}`);
  wsUrl = `ws://127.0.0.1:${(await echo.listen("ws://127.0.0.1:0/")).port}/`;
  udpTarget = `udp://127.0.0.1:${(await echo.listen("udp://127.0.0.1:0")).port}`;
  cmd = createCmdServer();
  cmdWsUrl = `ws://127.0.0.1:${(await cmd.listen("ws://127.0.0.1:0/cmd")).port}/cmd`;
});
afterAll(async () => {
  await Promise.all([echo, cmd].map((s) => s?.shutdown({ drainTimeoutMs: 1000 })));
  rmSync(dir, { recursive: true, force: true });
});

/** Messages the echo server has answered so far, over every door. */
const answered = () => echo.stats().messagesOut;

describe("bench over a Unix socket", () => {
  it("runs echo over unix:/path: every request answered by that server and verified", async () => {
    const before = answered();
    const { code, result } = await bench([
      "echo",
      `unix:${sock}`,
      "--conns",
      "4",
      "--pipeline",
      "4",
      "--requests",
      "2000",
    ]);
    expect(code).toBe(0);
    expect(result).toMatchObject({
      transport: "unix",
      target: `unix:${sock}`,
      prefix: "ECHO: ",
      sent: 2000,
      replies: 2000,
      ok: 2000,
      mismatches: 0,
      lost: 0,
      errors: {},
    });
    expect(result.latencyUs.count).toBe(2000);
    // The probe and the 2000 requests reached the server through its Unix door.
    expect(answered() - before).toBe(2001);
  });

  it("refuses TLS flags with a unix: target in one line", async () => {
    const out = await runCli(["bench", "echo", `unix:${sock}`, "--tls", "--requests", "1"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/TLS flags do not apply to unix:.*ERR_BAD_OPTION/);
  });
});

describe("bench over WebSocket", () => {
  it("runs echo over ws://: one message per request, the prefix learnt from the same message", async () => {
    const before = answered();
    const { code, result } = await bench([
      "echo",
      wsUrl,
      "--conns",
      "4",
      "--pipeline",
      "8",
      "--size",
      "100",
      "--requests",
      "2000",
    ]);
    expect(code).toBe(0);
    expect(result).toMatchObject({
      transport: "ws",
      target: wsUrl,
      prefix: "ECHO: ",
      sent: 2000,
      ok: 2000,
      mismatches: 0,
      lost: 0,
      errors: {},
    });
    expect(answered() - before).toBe(2001);
  });

  it("runs a --duration run over ws:// with every reply verified", async () => {
    const { code, result } = await bench(["echo", wsUrl, "--duration", "1s", "--warmup", "200ms"]);
    expect(code).toBe(0);
    expect(result.transport).toBe("ws");
    expect(result.ok).toBeGreaterThan(0);
    expect(result.ok).toBe(result.sent);
    expect(result.mismatches).toBe(0);
    expect(result.lost).toBe(0);
  });

  it("runs cmd over ws:// with a path, each reply checked by --expect", async () => {
    const { code, result } = await bench([
      "cmd",
      cmdWsUrl,
      "--message",
      "PING",
      "--expect",
      "PONG",
      "--conns",
      "2",
      "--pipeline",
      "4",
      "--requests",
      "500",
    ]);
    expect(code).toBe(0);
    expect(result).toMatchObject({ transport: "ws", sent: 500, ok: 500, mismatches: 0, lost: 0 });
  });

  it("counts a wrong reply over ws:// as a mismatch", async () => {
    const { code, result } = await bench([
      "cmd",
      cmdWsUrl,
      "--message",
      "PING",
      "--expect",
      "PANG",
      "-n",
      "10",
    ]);
    expect(code).toBe(1);
    expect(result.mismatches).toBe(10);
    expect(result.firstMismatch).toContain('"PONG"');
  });

  it("names a WebSocket path the server does not serve in one line", async () => {
    const out = await runCli(["bench", "echo", `${wsUrl}elsewhere`, "--requests", "10"]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe(
      `echoplex: error: cannot connect to ${wsUrl}elsewhere: the server answered the WebSocket handshake with HTTP 404 (is the path right?) (ERR_CONNECT_FAILED)\n`,
    );
  });

  it("refuses chat over ws:// in one line", async () => {
    const out = await runCli(["bench", "chat", wsUrl, "--requests", "1"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/bench chat does not run over WebSocket/);
    expect(out.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("bench echo over UDP", () => {
  it("accounts for every datagram: sent = received, none lost, duplicated or reordered", async () => {
    const before = answered();
    const { code, result } = await bench([
      "echo",
      udpTarget,
      "--conns",
      "4",
      "--pipeline",
      "8",
      "--requests",
      "4000",
    ]);
    expect(code).toBe(0);
    expect(result).toMatchObject({
      transport: "udp",
      target: udpTarget,
      prefix: "ECHO: ",
      sent: 4000,
      ok: 4000,
      mismatches: 0,
      lost: 0,
      udp: { sent: 4000, received: 4000, lost: 0, duplicated: 0, reordered: 0 },
    });
    expect(result.latencyUs.count).toBe(4000);
    expect(answered() - before).toBe(4001);
  });

  it("adds up over a --duration run and shows the datagrams in the text report", async () => {
    const out = await runCli(["bench", "echo", udpTarget, "--duration", "1s", "--warmup", "200ms"], {
      timeoutMs: 30_000,
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^run\s+echo udp:\/\/127\.0\.0\.1:\d+ over udp, 1 sockets/m);
    const row = /^datagrams\s+sent ([\d,]+), received ([\d,]+), lost 0, duplicated 0, reordered 0$/m.exec(
      out.stdout,
    );
    expect(row, out.stdout).not.toBeNull();
    const n = (s: string) => Number(s.replaceAll(",", ""));
    expect(n(row![1]!)).toBeGreaterThan(0);
    expect(n(row![1]!)).toBe(n(row![2]!));
  });

  it("counts lost, duplicated and reordered datagrams exactly, without retransmitting", async () => {
    // Per source, request n (from 0): n % 20 == 5 dropped, == 10 answered twice,
    // == 15 held back and answered after n + 1.
    const server = createSocket("udp4");
    const seen = new Map<string, number>();
    const held = new Map<string, Buffer>();
    let received = 0;
    server.on("message", (msg: Buffer, from: RemoteInfo) => {
      received++;
      const key = `${from.address}:${from.port}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      const reply = Buffer.concat([Buffer.from("ECHO: "), msg]);
      const send = (b: Buffer) => server.send(b, from.port, from.address);
      if (n % 20 === 5) return;
      if (n % 20 === 15) {
        held.set(key, reply);
        return;
      }
      send(reply);
      if (n % 20 === 10) send(reply);
      const late = held.get(key);
      if (late !== undefined) {
        held.delete(key);
        send(late);
      }
    });
    await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
    try {
      const { code, result, stderr } = await bench([
        "echo",
        `udp://127.0.0.1:${(server as UdpSocket).address().port}`,
        "--prefix",
        "ECHO: ",
        "--pipeline",
        "4",
        "--requests",
        "200",
        "--timeout",
        "300ms",
      ]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/10 lost/);
      expect(result.udp).toEqual({ sent: 200, received: 190, lost: 10, duplicated: 10, reordered: 10 });
      expect(result).toMatchObject({ sent: 200, ok: 190, lost: 10, mismatches: 0 });
      // No retransmission: the server saw each request once.
      expect(received).toBe(200);
    } finally {
      server.close();
    }
  });

  it("refuses modes that make no sense over UDP in one line", async () => {
    for (const mode of ["chat", "cmd", "connect"]) {
      const out = await runCli(["bench", mode, udpTarget, "--duration", "1s"]);
      expect(out.code, mode).toBe(2);
      expect(out.stderr).toContain(`bench ${mode} does not run over UDP`);
    }
    const http = await runCli(["bench", "http", udpTarget]);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain("bench http takes an http:// or https:// URL");
  });
});
