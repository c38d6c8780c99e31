// bench against servers that require a client certificate (mutual TLS): the real CLI
// echo and http services with --tls-ca --tls-require-client-cert, certificates from the
// real openssl. With --cert/--key the run works; without, one readable line and exit 7.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestCerts, mtlsServerFlags, type TestCerts } from "../helpers/certs.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

let certs: TestCerts;
let echo: RunningCli;
let http: RunningCli;

const mtlsServer = (service: string, ...extra: string[]) =>
  startCli([service, "127.0.0.1:0", ...mtlsServerFlags(certs), "--log-level", "warn", ...extra]);

beforeAll(async () => {
  certs = await makeTestCerts();
  [echo, http] = await Promise.all([mtlsServer("echo"), mtlsServer("http", "--delay", "0")]);
});

afterAll(async () => {
  await Promise.all([echo?.stop("SIGKILL"), http?.stop("SIGKILL")]);
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

const clientCert = () => ["--ca", certs.caCert, "--cert", certs.clientCert, "--key", certs.clientKey];
const ONE_LINE_NEEDS_CERT =
  /^echoplex: error: TLS with localhost:\d+ failed: the server requires a client certificate \(give --cert FILE --key FILE\) \(ERR_TLS\)\n$/;

describe("bench, mutual TLS", () => {
  it("echo with --cert/--key: every request answered", async () => {
    const { code, result } = await bench([
      "echo",
      `localhost:${echo.port}`,
      ...clientCert(),
      "--conns",
      "2",
      "--requests",
      "200",
    ]);
    expect(code).toBe(0);
    expect(result.ok).toBe(200);
  });

  it("echo without a client certificate: one line, exit 7", async () => {
    const out = await runCli([
      "bench",
      "echo",
      `localhost:${echo.port}`,
      "--ca",
      certs.caCert,
      "--requests",
      "5",
    ]);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(ONE_LINE_NEEDS_CERT);
    expect(out.code).toBe(7);
  });

  it("cmd (no probe: the refusal reaches the running connections): one line, exit 7", async () => {
    const out = await runCli([
      "bench",
      "cmd",
      `localhost:${echo.port}`,
      "--ca",
      certs.caCert,
      "--requests",
      "5",
    ]);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(ONE_LINE_NEEDS_CERT);
    expect(out.code).toBe(7);
  });

  it("a certificate of a CA the server does not trust: one line, exit 7", async () => {
    const out = await runCli([
      "bench",
      "echo",
      `localhost:${echo.port}`,
      "--ca",
      certs.caCert,
      "--cert",
      certs.rogueCert,
      "--key",
      certs.rogueKey,
      "--requests",
      "5",
    ]);
    expect(out.stderr).toMatch(
      /^echoplex: error: TLS with [^\n]*refused the client certificate[^\n]*\(ERR_TLS\)\n$/,
    );
    expect(out.code).toBe(7);
  });

  it("http (https) with --cert/--key works; without, one line and exit 7", async () => {
    const ok = await bench([
      "http",
      `https://localhost:${http.port}/`,
      ...clientCert(),
      "--conns",
      "2",
      "--requests",
      "40",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.result.ok).toBe(40);
    const refused = await runCli([
      "bench",
      "http",
      `https://localhost:${http.port}/`,
      "--ca",
      certs.caCert,
      "--duration",
      "10s",
    ]);
    expect(refused.stderr).toMatch(ONE_LINE_NEEDS_CERT);
    expect(refused.code).toBe(7);
  });

  it("--cert without --key is a usage error", async () => {
    const out = await runCli(["bench", "echo", `localhost:${echo.port}`, "--cert", certs.clientCert]);
    expect(out.stderr).toBe(
      "echoplex: error: a client certificate needs both --cert and --key (ERR_BAD_OPTION)\n",
    );
    expect(out.code).toBe(2);
  });
});
