// Mutual TLS from the client: the real CLI echo service asks for client certificates
// (--tls-ca --tls-require-client-cert, certificates from the real openssl), and the
// real CLI client presents one with --cert/--key, or is refused in one line, exit 7.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestCerts, mtlsServerFlags, type TestCerts } from "../helpers/certs.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";

let certs: TestCerts;
let server: RunningCli;

beforeAll(async () => {
  certs = await makeTestCerts();
  server = await startCli(["echo", "127.0.0.1:0", ...mtlsServerFlags(certs), "--log-level", "warn"]);
});

afterAll(async () => {
  await server?.stop("SIGKILL");
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

/** One `echoplex: error: … (ERR_TLS)` line and nothing of OpenSSL's dump. */
const ONE_TLS_LINE = /^echoplex: error: [^\n]+ \(ERR_TLS\)\n$/;

describe("echoplex client, mutual TLS", () => {
  it("--cert and --key: the server accepts the client and echoes", async () => {
    const r = await runCli(
      [
        "client",
        `localhost:${server.port}`,
        "--ca",
        certs.caCert,
        "--cert",
        certs.clientCert,
        "--key",
        certs.clientKey,
      ],
      { input: "hello mtls\n" },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("ECHO: hello mtls\n");
    expect(r.code).toBe(0);
  });

  it("--servername with --cert: an IP address, the certificate checked by name", async () => {
    const r = await runCli(
      [
        "client",
        `127.0.0.1:${server.port}`,
        "--ca",
        certs.caCert,
        "--servername",
        "localhost",
        "--cert",
        certs.clientCert,
        "--key",
        certs.clientKey,
      ],
      { input: "by ip\n" },
    );
    expect(r.stdout).toBe("ECHO: by ip\n");
    expect(r.code).toBe(0);
  });

  it("without a client certificate: one readable line, exit 7", async () => {
    const r = await runCli(["client", `localhost:${server.port}`, "--ca", certs.caCert], { input: "x\n" });
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(ONE_TLS_LINE);
    expect(r.stderr).toMatch(/requires a client certificate \(give --cert FILE --key FILE\)/);
    expect(r.stderr).not.toMatch(/routines|\.c:\d+|alert number/);
    expect(r.code).toBe(7);
  });

  it("with a certificate from a CA the server does not trust: one line, exit 7", async () => {
    const r = await runCli(
      [
        "client",
        `localhost:${server.port}`,
        "--ca",
        certs.caCert,
        "--cert",
        certs.rogueCert,
        "--key",
        certs.rogueKey,
      ],
      { input: "x\n" },
    );
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(ONE_TLS_LINE);
    expect(r.stderr).toMatch(/refused the client certificate/);
    expect(r.code).toBe(7);
  });

  it("usage errors: --cert without --key, a missing file, a key of another certificate (exit 2)", async () => {
    const alone = await runCli(["client", `localhost:${server.port}`, "--cert", certs.clientCert]);
    expect(alone.stderr).toBe(
      "echoplex: error: a client certificate needs both --cert and --key (ERR_BAD_OPTION)\n",
    );
    expect(alone.code).toBe(2);
    const missing = await runCli([
      "client",
      `localhost:${server.port}`,
      "--cert",
      join(certs.dir, "nope.crt"),
      "--key",
      certs.clientKey,
    ]);
    expect(missing.stderr).toMatch(/^echoplex: error: cannot read --cert .*nope\.crt.*\(ERR_BAD_OPTION\)\n$/);
    expect(missing.code).toBe(2);
    const mismatch = await runCli([
      "client",
      `localhost:${server.port}`,
      "--cert",
      certs.clientCert,
      "--key",
      certs.rogueKey,
    ]);
    expect(mismatch.stderr).toMatch(
      /^echoplex: error: --key does not belong to --cert: .*\(ERR_BAD_OPTION\)\n$/,
    );
    expect(mismatch.code).toBe(2);
  });
});
