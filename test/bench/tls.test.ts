import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { runCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

let certs: TestCerts;
let server: Server;
let port: number;

beforeAll(async () => {
  // A certificate from a test CA that bench does not trust (made by the real openssl).
  certs = await makeTestCerts();
  server = createServer(
    { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) },
    (socket) => {
      let buf = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        buf += chunk;
        let out = "";
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          out += `ECHO: ${buf.slice(0, nl + 1)}`;
          buf = buf.slice(nl + 1);
        }
        if (out) socket.write(out, "latin1");
      });
      socket.on("error", () => {});
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => {
  server?.close();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

describe("bench --tls", () => {
  it("runs echo over TLS with --insecure (a certificate from an untrusted CA)", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${port}`,
      "--tls",
      "--insecure",
      "--conns",
      "3",
      "--requests",
      "900",
    ]);
    expect(code).toBe(0);
    expect(result.target).toBe(`tls://127.0.0.1:${port}`);
    expect(result.ok).toBe(900);
  });

  it("refuses an unverifiable certificate without --insecure: one line, exit 7 (ERR_TLS, as the client)", async () => {
    const out = await runCli(["bench", "echo", `127.0.0.1:${port}`, "--tls", "--requests", "5"]);
    expect(out.code).toBe(7);
    expect(out.stderr).toMatch(
      /^echoplex: error: TLS with [^\n]*certificate[^\n]*--ca FILE[^\n]*\(ERR_TLS\)\n$/,
    );
  });

  it("--ca trusts the test CA (and implies --tls)", async () => {
    const { code, result } = await bench([
      "echo",
      `localhost:${port}`,
      "--ca",
      certs.caCert,
      "--requests",
      "50",
    ]);
    expect(code).toBe(0);
    expect(result.ok).toBe(50);
  });
});
