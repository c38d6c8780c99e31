// The client's TLS flags against a node:tls server with a certificate made by openssl.
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

let dir: string;
let server: Server;
let port: number;
let sniSeen: Array<string | false> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "echoplex-tls-"));
  // A self-signed certificate for localhost and 127.0.0.1, which is also its own CA.
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  server = createServer(
    {
      key: readFileSync(join(dir, "key.pem")),
      cert: readFileSync(join(dir, "cert.pem")),
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("echoplex client --tls", () => {
  it("connects with --ca trusting the server's certificate, by name and by IP", async () => {
    sniSeen = [];
    const ca = join(dir, "cert.pem");
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
      /^echoplex: error: TLS with localhost:\d+ failed: .*self[- ]signed.* \(ERR_TLS\)\n$/i,
    );
  });

  it("--insecure skips verification", async () => {
    const r = await runCli(["client", `localhost:${port}`, "--insecure"], { input: "anyway\n" });
    expect(r.stdout).toBe("TLS: anyway\n");
    expect(r.code).toBe(0);
  });

  it("--servername is sent as SNI and checked against the certificate", async () => {
    sniSeen = [];
    const ca = join(dir, "cert.pem");
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
    const r = await runCli(["client", `localhost:${port}`, "--ca", join(dir, "nope.pem")], { input: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read --ca .*nope\.pem.*\(ERR_BAD_OPTION\)/);
  });
});
