// The UDP door: each datagram one message, a peer per source address with an idle
// expiry, the server's limits, and no amplification. Clients: OpenBSD nc -u and node's
// dgram sockets (the datagram API every UDP client uses).
import { execFile } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type EchoplexServer } from "../../src/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { until } from "../helpers/until.js";

const servers: EchoplexServer<undefined>[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 1000 })));
});

function track<T extends EchoplexServer<undefined>>(server: T): T {
  servers.push(server);
  return server;
}

/** A UDP client socket that collects the datagrams it receives. */
async function udpClient(): Promise<{ send(text: string | Buffer, port: number): void; got: Buffer[] }> {
  const socket = createSocket("udp4");
  clients.push(socket);
  const got: Buffer[] = [];
  socket.on("message", (m) => got.push(m));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { send: (text, port) => socket.send(text, port, "127.0.0.1"), got };
}

/** `printf INPUT | nc -u -w1 127.0.0.1 PORT`: one datagram, what comes back within a second. */
function ncUdp(port: number, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "nc",
      ["-u", "-w", "1", "127.0.0.1", String(port)],
      { timeout: 10_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
    // A child that exits before reading all its input must not fail the run (EPIPE).
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

describe("the udp:// door", () => {
  it("answers nc -u: one datagram in, one answer out", async () => {
    const server = track(createEchoServer());
    const { port } = await server.listen("udp://127.0.0.1:0");
    const out = await ncUdp(port, "hello\n");
    expect(out).toBe("ECHO: hello\n");
  });

  it("treats each datagram as one message (newlines inside are not split) and each source as one peer", async () => {
    const server = track(createEchoServer());
    const info = await server.listen("udp://127.0.0.1:0");
    expect(info).toMatchObject({ transport: "udp", display: `udp://127.0.0.1:${info.port}` });
    const client = await udpClient();
    client.send("a\nb", info.port);
    client.send("second", info.port);
    await until(() => client.got.length === 2, "two answers");
    expect(client.got.map(String)).toEqual(["ECHO: a\nb", "ECHO: second"]);
    const peers = server.peers();
    expect(peers).toHaveLength(1);
    expect(peers[0]).toMatchObject({
      transport: "udp",
      remoteAddress: "127.0.0.1",
      messagesIn: 2,
      messagesOut: 2,
    });
  });

  it("never answers more than a peer sent plus the prefix allowance: a larger answer is dropped and counted", async () => {
    const server = track(
      createServer({
        service: "amplifier",
        handler: {
          createState: () => undefined,
          // 100 bytes for each request: an amplifier if a 1-byte datagram got it.
          onMessage: (conn, payload) => conn.send(payload.length === 1 ? Buffer.alloc(100, 65) : payload),
        },
      }),
    );
    const { port } = await server.listen("udp://127.0.0.1:0");
    const client = await udpClient();
    client.send("x", port);
    await until(() => (server.stats().errors.get("ERR_UDP_ANSWER_TOO_LARGE") ?? 0) === 1, "the drop counted");
    client.send("an answer as large as its request", port);
    await until(() => client.got.length === 1, "the next answer");
    expect(String(client.got[0])).toBe("an answer as large as its request");
  });

  it("forgets a peer silent longer than the UDP idle time", async () => {
    const server = track(createEchoServer({ udpIdleMs: 200 }));
    const { port } = await server.listen("udp://127.0.0.1:0");
    const client = await udpClient();
    client.send("hi", port);
    await until(() => client.got.length === 1, "the answer");
    expect(server.peers()).toHaveLength(1);
    await until(() => server.peers().length === 0, "the peer to expire");
    // A new datagram makes it a peer again.
    client.send("back", port);
    await until(() => client.got.length === 2, "the second answer");
    expect(server.stats().connectionsOpened).toBe(2);
  });

  it("counts UDP peers against --max-connections with TCP ones, telling the refused peer why", async () => {
    const server = track(createEchoServer({ limits: { maxConnections: 1 } }));
    const { port } = await server.listen("udp://127.0.0.1:0");
    const first = await udpClient();
    const second = await udpClient();
    first.send("one", port);
    await until(() => first.got.length === 1, "the first answer");
    second.send("two", port);
    await until(() => second.got.length === 1, "the refusal");
    expect(String(second.got[0])).toBe("ERROR: too many connections (limit 1)");
    expect(server.stats().rejected.get("max_connections")).toBe(1);
  });

  it("closes on a datagram over the message limit with the error, and drains UDP peers at shutdown", async () => {
    const server = createEchoServer({ maxLineBytes: 100 });
    const { port } = await server.listen("udp://127.0.0.1:0");
    const big = await udpClient();
    big.send(Buffer.alloc(200, 66), port);
    await until(() => big.got.length === 1, "the error");
    expect(String(big.got[0])).toBe("ERROR: message of 200 bytes exceeds 100 bytes");
    const stays = await udpClient();
    stays.send("x", port);
    await until(() => stays.got.length === 1, "the answer");
    await server.shutdown({ drainTimeoutMs: 2000 });
    await until(() => stays.got.length === 2, "the shutdown notice");
    expect(String(stays.got[1])).toBe("NOTICE: server shutting down");
    // The port is free again: the door's socket is closed.
    const again = createEchoServer();
    await again.listen(`udp://127.0.0.1:${port}`);
    await again.shutdown();
  });
});

describe("cmd over udp://", () => {
  it("answers a command datagram typed at nc -u (its newline is not part of the command)", async () => {
    const { createCmdServer } = await import("../../src/services/cmd/index.js");
    const server = createCmdServer();
    servers.push(server as unknown as EchoplexServer<undefined>);
    const { port } = await server.listen("udp://127.0.0.1:0");
    const out = await ncUdp(port, "UPPER hello\n");
    // One answer datagram, without a line end (a message, as over WebSocket).
    expect(out).toBe("HELLO");
  });
});
