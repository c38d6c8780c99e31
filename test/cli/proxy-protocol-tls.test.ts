// `--proxy-protocol` together with TLS: the PROXY header arrives in clear before the
// handshake (HAProxy passing TLS through with send-proxy-v2, or an AWS NLB). Real CLI,
// real HAProxy, node:tls clients with the test CA's certificates.
import { readFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProxyHeaderV1 } from "../../src/core/proxy-protocol.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { jsonLogs, type RunningCli, startCli } from "../helpers/cli.js";
import { type RunningHaproxy, startHaproxy } from "../helpers/haproxy.js";
import { connectClient, sleep } from "../helpers/net.js";

interface Exchange {
  reply: string;
  error?: string;
}

/**
 * Speaks TLS to `port` and returns the first line the server answers to "hi". With
 * `proxyFrom`, first sends a PROXY v1 header in clear claiming that client address.
 */
function exchange(
  port: number,
  certs: TestCerts,
  options: { localAddress?: string; proxyFrom?: string; client?: "good" | "rogue" } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    const raw = netConnect({ port, host: "127.0.0.1", localAddress: options.localAddress });
    raw.on("error", () => {});
    raw.once("connect", () => {
      if (options.proxyFrom !== undefined) {
        raw.write(
          encodeProxyHeaderV1({ address: options.proxyFrom, port: 4242 }, { address: "127.0.0.1", port }),
        );
      }
      const key = options.client === "rogue" ? certs.rogueKey : certs.clientKey;
      const cert = options.client === "rogue" ? certs.rogueCert : certs.clientCert;
      const socket = tlsConnect({
        socket: raw,
        servername: "localhost",
        ca: certs.caPem,
        ...(options.client === undefined ? {} : { key: readFileSync(key), cert: readFileSync(cert) }),
      });
      let data = "";
      const timer = setTimeout(() => finish({ reply: data, error: "timed out" }), 10_000);
      const finish = (result: Exchange) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      socket.once("secureConnect", () => socket.write("hi\n"));
      socket.on("data", (d: Buffer) => {
        data += d.toString();
        if (data.includes("\n")) finish({ reply: data.slice(0, data.indexOf("\n")) });
      });
      socket.on("error", (err: NodeJS.ErrnoException) =>
        finish({ reply: data, error: err.code ?? err.message }),
      );
      socket.on("close", () => finish({ reply: data, error: "closed" }));
    });
  });
}

let certs: TestCerts;
beforeAll(async () => {
  certs = await makeTestCerts();
});

describe("echoplex echo --proxy-protocol with TLS, behind HAProxy passing TLS through", () => {
  let echo: RunningCli;
  let haproxy: RunningHaproxy;
  let front: number;

  beforeAll(async () => {
    echo = await startCli([
      "echo",
      "127.0.0.1:0",
      "--proxy-protocol",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--log-format",
      "json",
    ]);
    haproxy = await startHaproxy(echo.port, ["send-proxy-v2"]);
    front = haproxy.ports[0]!;
  });

  afterAll(async () => {
    haproxy?.stop();
    await echo?.stop();
  });

  it("completes the handshake after the header and sees the real client address", async () => {
    const result = await exchange(front, certs, { localAddress: "127.0.0.7" });
    expect(result).toEqual({ reply: "ECHO: hi" });
    // The log line comes through a pipe, maybe after the reply.
    for (let i = 0; i < 200 && !jsonLogs(echo).some((l) => l.remote === "127.0.0.7"); i++) await sleep(50);
    const connect = jsonLogs(echo).find((l) => l.msg === "connect" && l.remote === "127.0.0.7");
    expect(connect?.via).toBe("127.0.0.1");
  });
});

describe("echoplex echo --proxy-protocol with TLS and client certificates, direct clients", () => {
  let echo: RunningCli;
  beforeAll(async () => {
    echo = await startCli([
      "echo",
      "127.0.0.1:0",
      "--proxy-protocol",
      "--proxy-timeout",
      "1s",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--tls-ca",
      certs.caCert,
      "--tls-require-client-cert",
      "--log-format",
      "json",
    ]);
  });
  afterAll(async () => {
    expect(await echo.stop()).toBe(0);
  });

  it("serves a client with a trusted certificate behind a header, and keeps the server's TLS checks", async () => {
    expect(await exchange(echo.port, certs, { proxyFrom: "198.51.100.9", client: "good" })).toEqual({
      reply: "ECHO: hi",
    });
    const rogue = await exchange(echo.port, certs, { proxyFrom: "198.51.100.10", client: "rogue" });
    expect(rogue.reply).toBe("");
    expect(rogue.error).toBeDefined();
    const none = await exchange(echo.port, certs, { proxyFrom: "198.51.100.11" });
    expect(none.reply).toBe("");
    const connects = jsonLogs(echo).filter((l) => l.msg === "connect");
    expect(connects.map((l) => l.remote)).toEqual(["198.51.100.9"]);
  });

  it("refuses TLS without a PROXY header, in clear, before any handshake", async () => {
    const result = await exchange(echo.port, certs, { client: "good" });
    expect(result.reply).toBe("");
    expect(result.error).toBeDefined();
    const plain = await connectClient(echo.port);
    plain.send("hello");
    expect(await plain.readToEnd()).toBe(
      "ERROR: bad PROXY protocol header: the connection did not start with a PROXY v1 or v2 header\n",
    );
  });
});
