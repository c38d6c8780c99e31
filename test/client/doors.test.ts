// `echoplex client` in a pipe on every door: the real CLI as a child process against
// servers started through the library on unix:, udp:// and ws:// (and wss://), and
// against servers nobody in the project wrote (the `ws` package's server, node:dgram).
import { spawn } from "node:child_process";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createServer, type EchoplexServer } from "../../src/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { runCli } from "../helpers/cli.js";

const servers: EchoplexServer<undefined>[] = [];
const closers: Array<() => void> = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "echoplex-client-doors-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 1000 })));
});

function track<T extends EchoplexServer<undefined>>(server: T): T {
  servers.push(server);
  return server;
}

/** An echo server that also records each message it got, byte for byte. */
function recordingEcho(): { server: EchoplexServer<undefined>; got: string[] } {
  const got: string[] = [];
  const server = track(
    createServer({
      service: "recorder",
      handler: {
        createState: () => undefined,
        onMessage: (conn, payload) => {
          got.push(payload.toString("utf8"));
          conn.send(Buffer.concat([Buffer.from("ECHO: "), payload]));
        },
      },
    }),
  );
  return { server, got };
}

const ERROR_LINE = /^echoplex: error: .+ \(ERR_[A-Z_]+\)\n$/;

describe("echoplex client unix:", () => {
  it("talks to a Unix socket like TCP, by path and in the abstract namespace", async () => {
    const server = track(createEchoServer());
    const path = join(dir, "echo.sock");
    await server.listen(`unix:${path}`);
    const r = await runCli(["client", `unix:${path}`], { input: "a\nb\n" });
    expect(r).toEqual({ code: 0, stdout: "ECHO: a\nECHO: b\n", stderr: "" });

    const name = `echoplex-client-${process.pid}`;
    await server.listen(`unix:@${name}`);
    const abstract = await runCli(["client", `unix:@${name}`], { input: "c\n" });
    expect(abstract).toEqual({ code: 0, stdout: "ECHO: c\n", stderr: "" });
  });

  it("no such socket, or a socket file nobody listens on: one line, exit 3", async () => {
    const missing = await runCli(["client", `unix:${join(dir, "none.sock")}`], { input: "a\n" });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(ERROR_LINE);
    expect(missing.stderr).toContain(`connection to unix:${join(dir, "none.sock")} refused: no such socket`);

    // A server killed without cleaning up leaves its socket file behind.
    const stale = join(dir, "stale.sock");
    const child = spawn(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`,
    ]);
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(existsSync(stale)).toBe(true);
    const refused = await runCli(["client", `unix:${stale}`], { input: "a\n" });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toBe(
      `echoplex: error: connection to unix:${stale} refused (ERR_CONNECTION_REFUSED)\n`,
    );
  });
});

describe("echoplex client ws://", () => {
  it("sends each line as one text message without its newline and prints each message as a line", async () => {
    const { server, got } = recordingEcho();
    const { port } = await server.listen("ws://127.0.0.1:0/chat");
    const r = await runCli(["client", `ws://127.0.0.1:${port}/chat`], { input: "a\nb c\n\nlast" });
    expect(r).toEqual({ code: 0, stdout: "ECHO: a\nECHO: b c\nECHO: \nECHO: last\n", stderr: "" });
    expect(got).toEqual(["a", "b c", "", "last"]);
  });

  it("--binary sends binary messages (seen by the ws package's own server)", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    closers.push(() => wss.close());
    await new Promise((resolve) => wss.once("listening", resolve));
    const kinds: Array<{ text: string; binary: boolean }> = [];
    wss.on("connection", (ws) =>
      ws.on("message", (data: Buffer, binary: boolean) => {
        kinds.push({ text: data.toString(), binary });
        ws.send(`got ${data.toString()}\n`);
      }),
    );
    const { port } = wss.address() as { port: number };
    const binary = await runCli(["client", `ws://127.0.0.1:${port}/`, "--binary"], { input: "x\n" });
    const text = await runCli(["client", `ws://127.0.0.1:${port}/`], { input: "y\n" });
    // A message that ends with a newline is one line, not a line and a blank one.
    expect(binary).toEqual({ code: 0, stdout: "got x\n", stderr: "" });
    expect(text).toEqual({ code: 0, stdout: "got y\n", stderr: "" });
    expect(kinds).toEqual([
      { text: "x", binary: true },
      { text: "y", binary: false },
    ]);
  });

  it("shows the server's close code in words: a message over --ws-max-message is 1009", async () => {
    const server = track(createEchoServer({ wsMaxMessageBytes: 100 }));
    const { port } = await server.listen("ws://127.0.0.1:0/");
    const r = await runCli(["client", `ws://127.0.0.1:${port}/`], {
      input: `short\n${"x".repeat(300)}\nnever\n`,
    });
    expect(r.stderr).toBe("echoplex: closed by server: 1009 message too big\n");
    expect(r.code).toBe(0);
  });

  it("a refused handshake is one line with the HTTP status: 404 for another path, 403 for an origin", async () => {
    const server = track(createEchoServer({ wsOrigins: ["https://example.org"] }));
    const { port } = await server.listen("ws://127.0.0.1:0/echo");
    const path = await runCli(["client", `ws://127.0.0.1:${port}/nope`], { input: "a\n" });
    expect(path.code).toBe(1);
    expect(path.stderr).toMatch(ERROR_LINE);
    expect(path.stderr).toMatch(
      /^echoplex: error: WebSocket handshake refused: HTTP 404 Not Found: no WebSocket/,
    );
    const origin = await runCli(["client", `ws://127.0.0.1:${port}/echo`], { input: "a\n" });
    expect(origin.code).toBe(1);
    expect(origin.stderr).toMatch(ERROR_LINE);
    expect(origin.stderr).toMatch(
      /^echoplex: error: WebSocket handshake refused: HTTP 403 Forbidden: origin \(none\) is not allowed/,
    );
  });

  it("refuses --framing length on ws:// and udp:// (exit 2) and --binary off ws://", async () => {
    for (const address of ["ws://127.0.0.1:9/", "udp://127.0.0.1:9"]) {
      const r = await runCli(["client", address, "--framing", "length"], { input: "a\n" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(ERROR_LINE);
      expect(r.stderr).toContain("--framing length is for stream addresses");
    }
    const binary = await runCli(["client", "udp://127.0.0.1:9", "--binary"], { input: "a\n" });
    expect(binary.code).toBe(2);
    expect(binary.stderr).toContain("--binary is for WebSocket addresses");
  });
});

describe("echoplex client wss://", () => {
  let certs: TestCerts;
  beforeAll(async () => {
    certs = await makeTestCerts();
  });
  afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

  it("connects with --ca, and refuses an untrusted certificate with exit 7", async () => {
    const server = track(
      createEchoServer({ tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) } }),
    );
    const { port } = await server.listen("wss://127.0.0.1:0/");
    const ok = await runCli(["client", `wss://localhost:${port}/`, "--ca", certs.caCert], {
      input: "safe\n",
    });
    expect(ok).toEqual({ code: 0, stdout: "ECHO: safe\n", stderr: "" });
    const untrusted = await runCli(["client", `wss://localhost:${port}/`], { input: "safe\n" });
    expect(untrusted.code).toBe(7);
    expect(untrusted.stderr).toMatch(ERROR_LINE);
    expect(untrusted.stderr).toContain(`TLS with wss://localhost:${port}/ failed`);
  });
});

describe("echoplex client udp://", () => {
  it("sends each line as one datagram without its newline and prints each answer as a line", async () => {
    const { server, got } = recordingEcho();
    const { port } = await server.listen("udp://127.0.0.1:0");
    const r = await runCli(["client", `udp://127.0.0.1:${port}`], { input: "a\nb c\n" });
    expect(r).toEqual({ code: 0, stdout: "ECHO: a\nECHO: b c\n", stderr: "" });
    expect(got).toEqual(["a", "b c"]);
  });

  it("after the input ends, prints answers until none has come for --udp-wait", async () => {
    // A server nobody in the project wrote: node:dgram, answering late, twice.
    const socket: UdpSocket = createSocket("udp4");
    const timers: NodeJS.Timeout[] = [];
    closers.push(() => {
      for (const t of timers) clearTimeout(t);
      socket.close();
    });
    socket.on("message", (m, from) => {
      const answer = (text: string) => socket.send(text, from.port, from.address);
      timers.push(setTimeout(() => answer(`first ${m}\n`), 400));
      timers.push(setTimeout(() => answer(`second ${m}`), 800));
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    const patient = await runCli(["client", `udp://127.0.0.1:${port}`, "--udp-wait", "2s"], { input: "q\n" });
    expect(patient).toEqual({ code: 0, stdout: "first q\nsecond q\n", stderr: "" });
    // Quiet for longer than --udp-wait: the client has hung up before the late answers.
    const hasty = await runCli(["client", `udp://127.0.0.1:${port}`, "--udp-wait", "50ms"], { input: "q\n" });
    expect(hasty).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("a port nobody listens on (port unreachable): one line, exit 3", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const r = await runCli(["client", `udp://127.0.0.1:${port}`], { input: "anyone?\n" });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `echoplex: error: connection to udp://127.0.0.1:${port} refused: nothing listens there (port unreachable) (ERR_CONNECTION_REFUSED)\n`,
    );
  });
});
