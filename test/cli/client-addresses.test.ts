// `echoplex client ADDRESS`: the address forms of every door as the CLI reads them —
// the usage errors (exit 2, one line), tls:// meaning TLS, and --help naming the forms.
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EchoplexServer } from "../../src/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { runCli } from "../helpers/cli.js";

describe("echoplex client addresses", () => {
  it.each([
    ["foo://127.0.0.1:1", [], 'unknown scheme "foo"'],
    ["unix:", [], 'bad address "unix:": no path'],
    ["ws://127.0.0.1/", [], "missing port"],
    ["udp://127.0.0.1:0", [], "a client needs the server's port"],
    ["unix:/tmp/echoplex-none.sock", ["--tls"], "TLS is for tcp and WebSocket addresses"],
    ["udp://127.0.0.1:9", ["--ca", "ca.pem"], "TLS is for tcp and WebSocket addresses"],
  ])("refuses %s %j: one line, exit 2", async (address, flags, what) => {
    const r = await runCli(["client", address, ...flags], { input: "a\n" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^echoplex: error: .+ \(ERR_BAD_(ADDRESS|OPTION)\)\n$/);
    expect(r.stderr).toContain(what);
  });

  it("--help names every address form and the message-door flags", async () => {
    const r = await runCli(["client", "--help"]);
    expect(r.code).toBe(0);
    for (const form of [
      "tls://",
      "unix:/path",
      "unix:@name",
      "udp://HOST:PORT",
      "ws://HOST:PORT/path",
      "wss://",
    ]) {
      expect(r.stdout).toContain(form);
    }
    expect(r.stdout).toMatch(/--udp-wait <duration> .*\(default: 1s\)/s);
    expect(r.stdout).toContain("--binary");
  });
});

describe("echoplex client tls://", () => {
  let certs: TestCerts;
  let server: EchoplexServer<undefined>;
  let port: number;
  beforeAll(async () => {
    certs = await makeTestCerts();
    server = createEchoServer({
      tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) },
    });
    ({ port } = await server.listen("tls://127.0.0.1:0"));
  });
  afterAll(async () => {
    await server.shutdown({ drainTimeoutMs: 500 });
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it("means TLS without --tls: trusted with --ca, refused (exit 7) without", async () => {
    const ok = await runCli(["client", `tls://localhost:${port}`, "--ca", certs.caCert], { input: "hi\n" });
    expect(ok).toEqual({ code: 0, stdout: "ECHO: hi\n", stderr: "" });
    const untrusted = await runCli(["client", `tls://localhost:${port}`], { input: "hi\n" });
    expect(untrusted.code).toBe(7);
    expect(untrusted.stderr).toContain(`TLS with localhost:${port} failed`);
  });
});
