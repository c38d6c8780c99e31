// The client's TLS flags against a node:tls server with a certificate signed by a test CA (made by openssl).
import { once } from "node:events";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { runCli } from "../helpers/cli.js";

let certs: TestCerts;
let server: Server;
let port: number;
let sniSeen: Array<string | false> = [];

beforeAll(async () => {
  certs = await makeTestCerts();
  server = createServer(
    {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      allowHalfOpen: true,
      // Records the SNI name even when the client then rejects the certificate.
      SNICallback: (name, cb) => {
        sniSeen.push(name);
        cb(null);
      },
    },
    (socket) => {
      socket.setEncoding("utf8");
      let buffered = "";
      socket.on("data", (d: string) => {
        buffered += d;
        let nl = buffered.indexOf("\n");
        while (nl >= 0) {
          socket.write(`TLS: ${buffered.slice(0, nl)}\n`);
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf("\n");
        }
      });
      socket.on("end", () => socket.end());
      socket.on("error", () => {});
    },
  );
  server.on("tlsClientError", () => {});
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as { port: number }).port;
});

afterAll(() => {
  server?.close();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

describe("echoplex client --tls", () => {
  it("connects with --ca trusting the server's certificate, by name and by IP", async () => {
    sniSeen = [];
    const ca = certs.caCert;
    const byName = await runCli(["client", `localhost:${port}`, "--tls", "--ca", ca], { input: "hello\n" });
    expect(byName.stdout).toBe("TLS: hello\n");
    expect(byName.code).toBe(0);
    const byIp = await runCli(["client", `127.0.0.1:${port}`, "--ca", ca], { input: "ip\n" });
    expect(byIp.stdout).toBe("TLS: ip\n");
    expect(byIp.code).toBe(0);
    expect(sniSeen[0]).toBe("localhost");
  });

  it("refuses an untrusted certificate: one line, exit 7", async () => {
    const r = await runCli(["client", `localhost:${port}`, "--tls"], { input: "hello\n" });
    expect(r.code).toBe(7);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^echoplex: error: TLS with localhost:\d+ failed: .*(issuer|verify).* \(ERR_TLS\)\n$/i,
    );
  });

  it("--insecure skips verification", async () => {
    const r = await runCli(["client", `localhost:${port}`, "--insecure"], { input: "anyway\n" });
    expect(r.stdout).toBe("TLS: anyway\n");
    expect(r.code).toBe(0);
  });

  it("--servername is sent as SNI and checked against the certificate", async () => {
    sniSeen = [];
    const ca = certs.caCert;
    const wrong = await runCli(["client", `127.0.0.1:${port}`, "--ca", ca, "--servername", "other.example"], {
      input: "x\n",
    });
    expect(sniSeen).toContain("other.example");
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toMatch(/other\.example.*\(ERR_TLS\)/);
    const right = await runCli(["client", `127.0.0.1:${port}`, "--ca", ca, "--servername", "localhost"], {
      input: "y\n",
    });
    expect(right.stdout).toBe("TLS: y\n");
    expect(right.code).toBe(0);
  });

  it("a missing --ca file is a usage error", async () => {
    const r = await runCli(["client", `localhost:${port}`, "--ca", join(certs.dir, "nope.pem")], {
      input: "",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read --ca .*nope\.pem.*\(ERR_BAD_OPTION\)/);
  });
});
