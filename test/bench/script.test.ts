// `bench script FILE.js ADDR`: scenarios run by virtual users against real servers:
// the cmd service (the CLI) over TCP, the library's doors (unix:, ws://, udp://), a real
// redis-server (examples/bench/redis.js), echoplex chat (examples/bench/chat.js) and an
// SMTP-like dialogue (examples/bench/smtp-like.js) against a small server of the test's own.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EchoplexServer } from "../../src/index.js";
import { createCmdServer } from "../../src/services/cmd/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { makeTestCerts } from "../helpers/certs.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { startRedis } from "../helpers/redis.js";
import { bench } from "./helpers.js";
import { listen } from "./servers.js";

const examples = fileURLToPath(new URL("../../examples/bench/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "echoplex-bench-script-"));
const sock = join(dir, "cmd.sock");
let cmd: RunningCli;
let doors: EchoplexServer<undefined>;
let udpEcho: EchoplexServer<undefined>;
let wsUrl = "";
let udpTarget = "";

/** A scenario against the cmd service: two steps, each checked. */
const CMD_SCENARIO = `export default async (conn, ctx) => {
  ctx.mark("ping");
  conn.send("PING\\n");
  await conn.expect("PONG\\n", 3000);
  ctx.mark("upper");
  const word = "w" + Math.floor(ctx.random() * 1e6);
  conn.send("UPPER " + word + "\\n");
  await conn.expect(word.toUpperCase() + "\\n", 3000);
  ctx.state.n = (ctx.state.n ?? 0) + 1;
};
`;

beforeAll(async () => {
  writeFileSync(join(dir, "cmd.js"), CMD_SCENARIO);
  writeFileSync(
    join(dir, "wrong.js"),
    `export default async (conn, ctx) => {
  ctx.mark("ping");
  conn.send("PING\\n");
  await conn.expect("PONG\\n", 3000);
  ctx.mark("never");
  conn.send("PING\\n");
  await conn.expect(/NOPE/, 150);
};
`,
  );
  writeFileSync(
    join(dir, "echo-ws.js"),
    `export default async (conn) => { conn.send("hi"); await conn.expect("ECHO: hi", 3000); };\n`,
  );
  cmd = await startCli(["cmd", "127.0.0.1:0", "--log-level", "warn"]);
  doors = createCmdServer();
  await doors.listen(`unix:${sock}`);
  wsUrl = `ws://127.0.0.1:${(await doors.listen("ws://127.0.0.1:0/cmd")).port}/cmd`;
  udpEcho = createEchoServer();
  udpTarget = `udp://127.0.0.1:${(await udpEcho.listen("udp://127.0.0.1:0")).port}`;
});
afterAll(async () => {
  await cmd?.stop();
  await Promise.all([doors, udpEcho].map((s) => s?.shutdown({ drainTimeoutMs: 1000 })));
  rmSync(dir, { recursive: true, force: true });
});

describe("bench script", () => {
  it("runs a scenario against echoplex cmd: iterations, a histogram per step, the seed in the result", async () => {
    const { code, result } = await bench(
      [
        "script",
        join(dir, "cmd.js"),
        `127.0.0.1:${cmd.port}`,
        "--conns",
        "4",
        "--requests",
        "200",
        "--seed",
        "42",
      ],
      30_000,
    );
    expect(code).toBe(0);
    expect(result.mode).toBe("script");
    expect(result.sent).toBe(200);
    expect(result.ok).toBe(200);
    expect(result.errors).toEqual({});
    expect(result.script).toMatchObject({ seed: 42, iterations: 200, failed: 0 });
    expect(Object.keys(result.script!.steps).sort()).toEqual(["ping", "upper"]);
    expect(result.script!.steps.ping!.count).toBe(200);
    expect(result.latencyUs.count).toBe(200);
  });

  it("counts a failed expectation as an error under its step's name and exits 1", async () => {
    const out = await runCli(
      ["bench", "script", join(dir, "wrong.js"), `127.0.0.1:${cmd.port}`, "--conns", "2", "--requests", "6"],
      { timeoutMs: 30_000 },
    );
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/errors\s+expect:never 6/);
    expect(out.stdout).toMatch(/first error\s+step never .*expected \/NOPE\/ within 150ms/);
    expect(out.stdout).toMatch(/^ {2}ping\s+p50 /m);
  });

  it("speaks every door: unix:, ws:// and udp://", async () => {
    const unix = await bench(["script", join(dir, "cmd.js"), `unix:${sock}`, "--requests", "20"]);
    expect(unix.code).toBe(0);
    expect(unix.result).toMatchObject({ transport: "unix", ok: 20 });
    writeFileSync(
      join(dir, "cmd-ws.js"),
      `export default async (conn) => { conn.send("UPPER ws"); await conn.expect("WS", 3000); };\n`,
    );
    const ws = await bench(["script", join(dir, "cmd-ws.js"), wsUrl, "--requests", "20"]);
    expect(ws.code).toBe(0);
    expect(ws.result).toMatchObject({ transport: "ws", ok: 20 });
    const udp = await bench(["script", join(dir, "echo-ws.js"), udpTarget, "--requests", "20"]);
    expect(udp.code).toBe(0);
    expect(udp.result).toMatchObject({ transport: "udp", ok: 20 });
  });

  it("speaks TLS, checking the server's certificate against --ca", async () => {
    const certs = await makeTestCerts();
    const tls = await startCli([
      "cmd",
      "127.0.0.1:0",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--log-level",
      "warn",
    ]);
    try {
      const { code, result } = await bench([
        "script",
        join(dir, "cmd.js"),
        `tls://127.0.0.1:${tls.port}`,
        "--ca",
        certs.caCert,
        "--servername",
        "localhost",
        "--requests",
        "20",
      ]);
      expect(code).toBe(0);
      expect(result).toMatchObject({ transport: "tls", ok: 20 });
    } finally {
      await tls.stop();
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });

  it("refuses a module without a default function, and a missing address, as usage errors", async () => {
    writeFileSync(join(dir, "none.js"), "export const x = 1;\n");
    const none = await runCli([
      "bench",
      "script",
      join(dir, "none.js"),
      `127.0.0.1:${cmd.port}`,
      "--requests",
      "1",
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no default export function");
    const missing = await runCli(["bench", "script", join(dir, "cmd.js")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("the address is missing");
  });
});

describe("bench script examples", () => {
  it("examples/bench/redis.js: PING, SET, GET inline against a real redis-server", async () => {
    const redis = await startRedis();
    const port = redis.port;
    try {
      const { code, result } = await bench(
        ["script", join(examples, "redis.js"), `127.0.0.1:${port}`, "--conns", "5", "--requests", "300"],
        30_000,
      );
      expect(code).toBe(0);
      expect(result.ok).toBe(300);
      expect(Object.keys(result.script!.steps).sort()).toEqual(["get", "ping", "set"]);
      expect(result.script!.steps.get!.count).toBe(300);
    } finally {
      await redis.stop("SIGKILL");
    }
  });

  it("examples/bench/chat.js: users pick a nick, talk, and get their own private messages from echoplex chat", async () => {
    const chat = await startCli(["chat", "127.0.0.1:0", "--log-level", "warn"]);
    try {
      const { code, result } = await bench(
        ["script", join(examples, "chat.js"), `127.0.0.1:${chat.port}`, "--conns", "3", "--requests", "15"],
        30_000,
      );
      expect(code, JSON.stringify(result.script)).toBe(0);
      expect(result.ok).toBe(15);
      expect(result.script!.steps.join!.count).toBe(3);
      expect(result.script!.steps.say!.count).toBe(15);
    } finally {
      await chat.stop();
    }
  });

  it("examples/bench/smtp-like.js: a full dialogue per iteration, a new connection after QUIT", async () => {
    let sessions = 0;
    const srv = await listen(
      createServer((socket: Socket) => {
        sessions++;
        socket.write("220 test ESMTP\r\n");
        let buf = "";
        let inData = false;
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf("\r\n"); i >= 0; i = buf.indexOf("\r\n")) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (inData) {
              if (line === ".") {
                inData = false;
                socket.write("250 queued\r\n");
              }
            } else if (line.startsWith("HELO")) socket.write("250 hello\r\n");
            else if (line.startsWith("MAIL FROM:") || line.startsWith("RCPT TO:")) socket.write("250 ok\r\n");
            else if (line === "DATA") {
              inData = true;
              socket.write("354 end with .\r\n");
            } else if (line === "QUIT") socket.end("221 bye\r\n");
            else socket.write("500 what\r\n");
          }
        });
        socket.on("error", () => {});
      }),
    );
    try {
      const { code, result } = await bench(
        [
          "script",
          join(examples, "smtp-like.js"),
          `127.0.0.1:${srv.port}`,
          "--conns",
          "2",
          "--requests",
          "20",
        ],
        30_000,
      );
      expect(code, JSON.stringify(result.script)).toBe(0);
      expect(result.ok).toBe(20);
      expect(sessions).toBe(20);
      expect(Object.keys(result.script!.steps).sort()).toEqual([
        "data",
        "envelope",
        "greeting",
        "helo",
        "quit",
      ]);
    } finally {
      await srv.close();
    }
  });
});
