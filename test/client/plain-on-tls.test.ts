// The plain client pointed at a TLS port: it must say so and suggest --tls (exit 7),
// against the real CLI echo with --tls-self-signed and against openssl s_server, a
// TLS server nobody in the project wrote. A plain server that says nothing (a sink)
// must not be mistaken for one, nor be sent anything but the input.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { CLI, type RunningCli, runCli, startCli } from "../helpers/cli.js";

const running: RunningCli[] = [];
const children: ChildProcess[] = [];
let certs: TestCerts;

beforeAll(async () => {
  certs = await makeTestCerts();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop("SIGKILL")));
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

afterAll(() => {
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

async function service(...args: string[]): Promise<RunningCli> {
  const cli = await startCli([...args, "127.0.0.1:0", "--log-level", "warn"]);
  running.push(cli);
  return cli;
}

/** openssl s_server on a port of its choosing; resolves with the port from its ACCEPT line. */
async function opensslServer(): Promise<number> {
  const proc = spawn(
    "openssl",
    ["s_server", "-accept", "127.0.0.1:0", "-cert", certs.serverCert, "-key", certs.serverKey],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  children.push(proc);
  let out = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  proc.stderr!.resume();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = /ACCEPT \S*:(\d+)/.exec(out);
    if (m) return Number(m[1]);
    if (proc.exitCode !== null) throw new Error(`openssl s_server exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`openssl s_server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const TLS_HINT =
  /^echoplex: error: 127\.0\.0\.1:\d+ speaks TLS \([^)]*\); connect with --tls [^\n]*\(ERR_TLS\)\n$/;

/** The client with its input still open: it must notice the closed connection by itself. */
async function clientWithOpenInput(
  port: number,
): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const proc = spawn(process.execPath, [CLI, "client", `127.0.0.1:${port}`]);
  children.push(proc);
  let stderr = "";
  proc.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  proc.stdout.resume();
  proc.stdin.write("hello there\n");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const [code] = (await once(proc, "close")) as [number | null];
  clearTimeout(timer);
  proc.stdin.destroy();
  return { code, stderr, ms: Date.now() - started };
}

describe("echoplex client (plain) against a TLS port", () => {
  it("echoplex echo --tls-self-signed, input piped: says it speaks TLS, suggests --tls, exit 7", async () => {
    const tls = await service("echo", "--tls-self-signed");
    const r = await runCli(["client", `127.0.0.1:${tls.port}`], { input: "hello world\n" });
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(TLS_HINT);
    expect(r.code).toBe(7);
  });

  it("echoplex echo --tls-self-signed, input still open: the same, without waiting for the input", async () => {
    const tls = await service("echo", "--tls-self-signed");
    const r = await clientWithOpenInput(tls.port);
    expect(r.stderr).toMatch(TLS_HINT);
    expect(r.code).toBe(7);
  });

  it("echoplex echo --tls-self-signed, a line too short for a TLS record: no answer, then the same hint", async () => {
    const tls = await service("echo", "--tls-self-signed");
    const r = await runCli(["client", `127.0.0.1:${tls.port}`, "--wait", "1s"], { input: "hi\n" });
    expect(r.stderr).toMatch(/speaks TLS \(no answer to plain text within 1000 ms\); connect with --tls/);
    expect(r.code).toBe(7);
  });

  it("openssl s_server: says it speaks TLS, suggests --tls, exit 7", async () => {
    const port = await opensslServer();
    const r = await runCli(["client", `127.0.0.1:${port}`], { input: "hello world\n" });
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(TLS_HINT);
    expect(r.code).toBe(7);
  });

  it("a plain sink that never answers: exit 0, and it records only the input (no TLS probe)", async () => {
    const sink = await startCli(["sink", "127.0.0.1:0", "--log-level", "debug"]);
    running.push(sink);
    const r = await runCli(["client", `127.0.0.1:${sink.port}`], { input: "reading=1\n" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const deadline = Date.now() + 10_000;
    while (!/"msg":"disconnect"/.test(sink.stderr()) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 25));
    }
    const logs = sink.stderr().split("\n");
    const messages = logs.filter((l) => l.includes('"msg":"message"'));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('"text":"reading=1"');
    expect(logs.filter((l) => l.includes('"msg":"connect"'))).toHaveLength(1);
  });

  it("--tls against the same server still works (the hint is right)", async () => {
    const tls = await service("echo", "--tls-self-signed");
    const r = await runCli(["client", `127.0.0.1:${tls.port}`, "--insecure"], { input: "hello\n" });
    expect(r.stdout).toBe("ECHO: hello\n");
    expect(r.code).toBe(0);
  });
});
