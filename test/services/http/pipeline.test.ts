// Pipelined requests on one connection: reading stops at --max-pipeline unanswered
// requests and resumes as answers leave (none lost, all in order); on shutdown every
// request already received is answered, only the last answer closes the connection.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHttpResponder,
  type HttpResponder,
  type HttpResponderOptions,
} from "../../../src/services/http/index.js";

let servers: HttpResponder[] = [];
let sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await Promise.all(servers.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
  servers = [];
});

async function start(options: HttpResponderOptions): Promise<{ server: HttpResponder; port: number }> {
  const server = createHttpResponder(options);
  servers.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  return { server, port };
}

async function open(
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect({ port, host: "127.0.0.1" });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => Buffer.concat(chunks).toString("latin1"), closed };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = (text: string, what: string): number => text.split(what).length - 1;

describe("http responder: pipelining", () => {
  it("stops reading at --max-pipeline unanswered requests, then answers every one in order", async () => {
    const { server, port } = await start({ delayMs: 0, maxPipeline: 8 });
    const client = await open(port);
    client.socket.pause(); // reads nothing until told
    // The first answer waits 3 s; the others queue behind it (answers leave in order),
    // so nothing leaves the server for 3 s whatever the machine's load.
    const n = 4000;
    let text = "GET /echo?delay=3s&n=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    for (let i = 1; i < n; i++) text += `GET /?n=${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    client.socket.write(text);
    await waitFor("the pipeline pause", () => server.counts.pipelinePauses >= 1);
    const peer = [...server.connections.values()][0]!;
    expect(peer.held).toBe(true);
    // Reading stopped after the read in hand: far fewer than all were parsed.
    expect(server.counts.requests).toBeLessThan(n);
    expect(peer.unanswered).toBe(server.counts.requests);
    expect(server.peers()[0]?.details).toMatchObject({ reading: "paused" });
    client.socket.resume();
    await waitFor(`${n} answers`, () => count(client.received(), "HTTP/1.1 200 OK") === n, 30_000);
    expect(server.counts.requests).toBe(n);
    expect(server.counts.pipelinePauses).toBeGreaterThanOrEqual(2);
    const got = client.received();
    expect(got.startsWith("HTTP/1.1 200 OK")).toBe(true);
    expect(got.indexOf('"url": "/echo?delay=3s&n=0"')).toBeGreaterThan(0);
    expect(got.endsWith("Hello World!")).toBe(true);
    await waitFor("no unanswered request", () => peer.unanswered === 0);
    expect(peer.held).toBe(false);
  }, 60_000);

  it("answers a client that pipelines within the limit without pausing", async () => {
    const { server, port } = await start({ delayMs: 200, maxPipeline: 8 });
    const client = await open(port);
    client.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(7));
    await waitFor("7 answers", () => count(client.received(), "HTTP/1.1 200 OK") === 7);
    expect(server.counts.pipelinePauses).toBe(0);
  });

  it("with --max-pipeline 1 still reads a request body that spans many reads", async () => {
    const { server, port } = await start({ delayMs: 0, maxPipeline: 1 });
    const client = await open(port);
    const body = "x".repeat(512 * 1024);
    client.socket.write(
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}GET / HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    await waitFor("2 answers", () => count(client.received(), "HTTP/1.1 200 OK") === 2);
    expect(client.received()).toContain(`"body": "${"x".repeat(100)}`);
    expect(client.received().endsWith("Hello World!")).toBe(true);
    expect(server.counts.requests).toBe(2);
  });

  it("on shutdown answers every pipelined request already received; only the last closes", async () => {
    // The delay leaves ample time to start the shutdown before any answer is written.
    const { server, port } = await start({ delayMs: 2000 });
    const client = await open(port);
    client.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(5));
    await waitFor("5 requests", () => server.counts.requests === 5);
    const stopping = server.shutdown();
    await client.closed;
    await stopping;
    const answers = client.received().split("HTTP/1.1 ").slice(1);
    expect(answers).toHaveLength(5);
    expect(answers.map((a) => /\r\nconnection: (\S+)\r\n/i.exec(a)?.[1])).toEqual([
      "keep-alive",
      "keep-alive",
      "keep-alive",
      "keep-alive",
      "close",
    ]);
    expect(answers.every((a) => a.endsWith("Hello World!"))).toBe(true);
  });

  it("on shutdown a later answer that is ready first does not close before the earlier one", async () => {
    const { server, port } = await start({ delayMs: 0 });
    const client = await open(port);
    client.socket.write("GET /delay/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /delay/1.5 HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor("2 requests", () => server.counts.requests === 2);
    // The second answer is written 1.5 s before the first, both after the shutdown began.
    const stopping = server.shutdown();
    await client.closed;
    await stopping;
    const answers = client.received().split("HTTP/1.1 ").slice(1);
    expect(answers.map((a) => /\r\nconnection: (\S+)\r\n/i.exec(a)?.[1])).toEqual(["keep-alive", "close"]);
  });

  it("on shutdown a client that never reads holds it no longer than the drain timeout", async () => {
    const { server, port } = await start({ delayMs: 0, maxPipeline: 8 });
    const client = await open(port);
    client.socket.pause();
    client.socket.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100_000));
    await waitFor("the pipeline pause", () => server.counts.pipelinePauses >= 1);
    await server.shutdown({ drainTimeoutMs: 1000 });
    // A paused client notices the server's reset only when it reads again.
    client.socket.resume();
    await client.closed;
    await waitFor("the connection to go", () => server.connections.size === 0);
    expect(server.inflight).toBe(0);
  });
});
