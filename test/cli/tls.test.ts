// TLS flags through the real CLI, with openssl s_client, curl, nc and node:tls as peers.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeTestCerts, mtlsServerFlags, type TestCerts } from "../helpers/certs.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { connectClient } from "../helpers/net.js";
import { tlsExchange } from "../helpers/tls.js";

const run = promisify(execFile);
let certs: TestCerts;
let clis: RunningCli[] = [];

beforeAll(async () => {
  certs = await makeTestCerts();
});

afterEach(async () => {
  await Promise.all(clis.map((c) => c.stop("SIGKILL")));
  clis = [];
});

async function cli(args: string[]): Promise<RunningCli> {
  const c = await startCli([...args, "--log-format", "json"]);
  clis.push(c);
  return c;
}

/** Runs `openssl s_client`, sends `input`, and returns its output once `until` shows or it exits. */
function sClient(
  port: number,
  extra: string[],
  input: string,
  until: RegExp,
): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const proc = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-quiet", ...extra]);
    let out = "";
    const finish = (code: number | null) => {
      clearTimeout(timer);
      proc.kill();
      resolve({ out, code });
    };
    const timer = setTimeout(() => finish(null), 10_000);
    proc.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (until.test(out)) finish(0);
    });
    proc.stderr.resume();
    proc.once("exit", (code) => finish(code));
    proc.stdin.on("error", () => {});
    proc.stdin.write(input);
  });
}

describe("TLS from the command line", () => {
  it("echo --tls-self-signed prints the fingerprint that openssl and node clients see", async () => {
    const echo = await cli(["echo", "127.0.0.1:0", "--tls-self-signed"]);
    const printed =
      /echoplex echo TLS self-signed certificate for .*localhost.*, SHA-256 fingerprint ([0-9A-F:]{95})\n/.exec(
        echo.stdout(),
      )?.[1];
    expect(printed).toBeDefined();
    expect(echo.stdout()).toMatch(
      /echoplex echo listening on 127\.0\.0\.1:\d+ \(lines, prefix "ECHO: ", TLS\)/,
    );

    const { stdout } = await run("bash", [
      "-c",
      `openssl s_client -connect 127.0.0.1:${echo.port} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`,
    ]);
    expect(stdout.trim()).toBe(`sha256 Fingerprint=${printed}`);
    const node = await tlsExchange(echo.port, "hi\n", { insecure: true, until: /\n/ });
    expect(node.fingerprint256).toBe(printed);
    expect(node.data).toBe("ECHO: hi\n");

    const s = await sClient(echo.port, [], "hello over openssl\n", /ECHO: hello over openssl\n/);
    expect(s.out).toBe("ECHO: hello over openssl\n");
  });

  it("echo with its own certificate and required client certificates (mutual TLS)", async () => {
    const echo = await cli(["echo", "127.0.0.1:0", ...mtlsServerFlags(certs), "--log-level", "debug"]);
    expect(echo.stdout()).toMatch(/client certificates required/);
    const ok = await sClient(
      echo.port,
      ["-CAfile", certs.caCert, "-verify_return_error", "-cert", certs.clientCert, "-key", certs.clientKey],
      "with a cert\n",
      /ECHO: with a cert\n/,
    );
    expect(ok.out).toBe("ECHO: with a cert\n");

    const refused = await sClient(echo.port, ["-CAfile", certs.caCert], "no cert\n", /ECHO/);
    expect(refused.out).not.toContain("ECHO");
    expect(refused.code).not.toBe(null); // s_client ended: the server refused, nothing hung

    const foreign = await tlsExchange(echo.port, "rogue\n", {
      ca: certs.caPem,
      cert: certs.rogueCert,
      key: certs.rogueKey,
    });
    expect(foreign.data).toBe("");
    expect(foreign.timedOut).toBe(false);
    await expect.poll(() => echo.stderr()).toMatch(/"msg":"TLS handshake failed"/);
    expect(await echo.stop()).toBe(0);
  });

  it("a plain-text client on a TLS port is closed with a debug line; the server keeps serving", async () => {
    const echo = await cli(["echo", "127.0.0.1:0", "--tls-self-signed", "--log-level", "debug"]);
    const plain = await connectClient(echo.port);
    plain.send("hello, no TLS here");
    const got = await plain.readToEnd(5000);
    expect(got).not.toContain("ECHO");
    await expect.poll(() => echo.stderr()).toMatch(/"level":20,.*"msg":"TLS handshake failed"/);
    expect(echo.stderr()).not.toMatch(/"level":50/);
    const after = await tlsExchange(echo.port, "ok\n", { insecure: true, until: /\n/ });
    expect(after.data).toBe("ECHO: ok\n");
    expect(await echo.stop()).toBe(0);
  });

  it("http over TLS: curl with the CA, and with -k against a self-signed certificate", async () => {
    const own = await cli([
      "http",
      "127.0.0.1:0",
      "--delay",
      "0",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
    ]);
    const verified = await run("curl", ["-s", "--cacert", certs.caCert, `https://localhost:${own.port}/`]);
    expect(verified.stdout).toBe("Hello World!");

    const self = await cli(["http", "127.0.0.1:0", "--delay", "100ms", "--tls-self-signed"]);
    expect(self.stdout()).toMatch(/echoplex http listening on .* \(delay 100ms, status 200, TLS\)/);
    const insecure = await run("curl", [
      "-sk",
      `https://127.0.0.1:${self.port}/status/201`,
      "-w",
      " %{http_code}",
    ]);
    expect(insecure.stdout).toBe("Hello World! 201");
  });

  it("refuses incomplete or contradictory TLS flags with one line and a non-zero exit", async () => {
    const half = await runCli(["echo", "127.0.0.1:0", "--tls-cert", certs.serverCert]);
    expect(half.code).toBe(2);
    expect(half.stderr).toBe("echoplex: error: --tls-cert and --tls-key go together (ERR_BAD_OPTION)\n");
    const noCa = await runCli(["echo", "127.0.0.1:0", "--tls-self-signed", "--tls-require-client-cert"]);
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toContain("--tls-require-client-cert needs --tls-ca FILE");
    const missing = await runCli([
      "echo",
      "127.0.0.1:0",
      "--tls-cert",
      "/nope.pem",
      "--tls-key",
      certs.serverKey,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "echoplex: error: cannot read TLS certificate file /nope.pem (ENOENT) (ERR_TLS_CONFIG)\n",
    );
  });
});
