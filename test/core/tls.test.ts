// Server-side TLS in the engine: own certificates, self-signed, mutual TLS, and clients
// that do not speak TLS at all. Real sockets, certificates made by openssl.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { loadServerTls } from "../../src/core/tls.js";
import { EchoplexError } from "../../src/errors.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { tlsExchange } from "../helpers/tls.js";

let certs: TestCerts;
beforeAll(async () => {
  certs = await makeTestCerts();
});

async function tlsEcho(config: Parameters<typeof loadServerTls>[0]) {
  const tls = await loadServerTls(config);
  const server = createEchoServer({ tls: tls.options });
  const info = await server.listen("127.0.0.1:0");
  return { server, tls, port: info.port, info };
}

describe("server-side TLS", () => {
  it("serves echo with a certificate from files, verified by the client against its CA", async () => {
    const { server, port, info } = await tlsEcho({
      certificate: { kind: "files", certFile: certs.serverCert, keyFile: certs.serverKey },
    });
    expect(info.tls).toBe(true);
    const res = await tlsExchange(port, "hello\n", { ca: certs.caPem, until: /\n/ });
    expect(res.error).toBeUndefined();
    expect(res.data).toBe("ECHO: hello\n");
    expect(server.connections.size).toBeLessThanOrEqual(1);
    await server.shutdown();
  });

  it("generates a self-signed certificate whose fingerprint the client sees", async () => {
    const { server, port, tls } = await tlsEcho({ certificate: { kind: "self-signed" } });
    expect(tls.selfSigned).toBe(true);
    expect(tls.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // Trusting exactly this certificate works (its names include localhost).
    const res = await tlsExchange(port, "hi\n", { ca: tls.certPem, until: /\n/ });
    expect(res.error).toBeUndefined();
    expect(res.fingerprint256).toBe(tls.fingerprint256);
    expect(res.data).toBe("ECHO: hi\n");
    // Without trusting it, verification fails on the client's side.
    const untrusted = await tlsExchange(port, "hi\n");
    expect(untrusted.error).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    await server.shutdown();
  });

  it("mutual TLS: accepts a client certificate from the CA, refuses none and a foreign one", async () => {
    const { server, port, tls } = await tlsEcho({
      certificate: { kind: "files", certFile: certs.serverCert, keyFile: certs.serverKey },
      caFile: certs.caCert,
      clientCerts: "required",
    });
    expect(tls.clientCerts).toBe("required");
    const ok = await tlsExchange(port, "mine\n", {
      ca: certs.caPem,
      cert: certs.clientCert,
      key: certs.clientKey,
      until: /\n/,
    });
    expect(ok.data).toBe("ECHO: mine\n");

    const none = await tlsExchange(port, "none\n", { ca: certs.caPem });
    expect(none.data).toBe("");
    expect(none.error).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|EPIPE/);

    const rogue = await tlsExchange(port, "rogue\n", {
      ca: certs.caPem,
      cert: certs.rogueCert,
      key: certs.rogueKey,
    });
    expect(rogue.data).toBe("");
    expect(rogue.timedOut).toBe(false); // closed by the server, with or without an alert
    expect(server.stats().tlsHandshakeFailures).toBeGreaterThanOrEqual(2);
    await server.shutdown();
  });

  it("closes a plain-text client on a TLS port cleanly and keeps serving", async () => {
    const { server, port } = await tlsEcho({ certificate: { kind: "self-signed" } });
    const plain = await new Promise<string>((resolve) => {
      const socket = connect({ port, host: "127.0.0.1" });
      let got = "";
      socket.on("data", (d) => {
        got += d.toString("latin1");
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve(got));
      socket.write("hello in plain text\n");
    });
    expect(plain).not.toContain("ECHO");
    expect(server.stats().tlsHandshakeFailures).toBe(1);
    expect(server.connections.size).toBe(0);
    const res = await tlsExchange(port, "still here\n", { insecure: true, until: /\n/ });
    expect(res.data).toBe("ECHO: still here\n");
    await server.shutdown();
  });

  it("shuts down without waiting for a client stuck before its handshake", async () => {
    const { server, port } = await tlsEcho({
      certificate: { kind: "self-signed" },
      handshakeTimeoutMs: 60_000,
    });
    const stuck = connect({ port, host: "127.0.0.1" });
    stuck.on("error", () => {});
    await new Promise((r) => stuck.once("connect", r));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.shutdown({ drainTimeoutMs: 200 });
    // Far below the 60 s handshake timeout; generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
    stuck.destroy();
  });

  it("drops a peer that never finishes its handshake after the handshake timeout", async () => {
    const { server, port } = await tlsEcho({ certificate: { kind: "self-signed" }, handshakeTimeoutMs: 300 });
    const silent = connect({ port, host: "127.0.0.1" });
    silent.on("error", () => {});
    const started = Date.now();
    await new Promise((r) => silent.once("close", r));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.stats().tlsHandshakeFailures).toBe(1);
    await server.shutdown();
  });

  it("reports unreadable files and mismatched keys as ERR_TLS_CONFIG", async () => {
    const missing = await loadServerTls({
      certificate: { kind: "files", certFile: "/nonexistent/cert.pem", keyFile: certs.serverKey },
    }).catch((err: unknown) => err);
    expect(EchoplexError.is(missing) && missing.code).toBe("ERR_TLS_CONFIG");
    expect((missing as Error).message).toBe(
      "cannot read TLS certificate file /nonexistent/cert.pem (ENOENT)",
    );

    const mismatch = await loadServerTls({
      certificate: { kind: "files", certFile: certs.serverCert, keyFile: certs.clientKey },
    }).catch((err: unknown) => err);
    expect(EchoplexError.is(mismatch) && mismatch.code).toBe("ERR_TLS_CONFIG");

    const noCa = await loadServerTls({ certificate: { kind: "self-signed" }, clientCerts: "required" }).catch(
      (err: unknown) => err,
    );
    expect((noCa as Error).message).toMatch(/needs a CA/);
  });

  it("a library user's own TlsOptions get the same hardening: no CBC, no renegotiation", async () => {
    const server = createEchoServer({
      tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) },
    });
    const { port } = await server.listen("127.0.0.1:0");
    const base = {
      port,
      host: "127.0.0.1",
      servername: "localhost",
      ca: certs.caPem,
      maxVersion: "TLSv1.2",
    } as const;

    const cbc = tlsConnect({ ...base, ciphers: "ECDHE-ECDSA-AES128-SHA256" });
    const cbcOutcome = await new Promise<string>((resolve) => {
      cbc.once("secureConnect", () => resolve(`connected with ${cbc.getCipher().name}`));
      cbc.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    cbc.destroy();
    expect(cbcOutcome).toMatch(/HANDSHAKE_FAILURE/);

    const client = tlsConnect(base);
    await once(client, "secureConnect");
    expect(client.getCipher().name).toBe("ECDHE-ECDSA-AES128-GCM-SHA256");
    client.on("error", () => {});
    const closed = once(client, "close");
    client.renegotiate({}, () => {});
    await closed;
    expect(server.stats().errors.get("ERR_TLS_RENEGOTIATION")).toBe(1);
    await expect.poll(() => server.connections.size).toBe(0);
    await server.shutdown();
  });
});
