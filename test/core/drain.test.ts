// Closing a connection to a peer that is slow to read: the replies queued before the
// close all go out (the linger only starts once they have), and a peer that never takes
// them is reset (not FIN-closed after its last reply), logged and counted.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Logger } from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Limits } from "../../src/core/limits.js";
import type { EchoplexServer } from "../../src/core/server.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { captureLogs } from "../helpers/log-capture.js";
import { sleep } from "../helpers/net.js";

let server: EchoplexServer<undefined> | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.shutdown({ drainTimeoutMs: 500 });
  server = undefined;
});

async function start(limits: Partial<Limits>, logger?: Logger): Promise<number> {
  server = createEchoServer({ limits, ...(logger === undefined ? {} : { logger }) });
  return (await server.listen("127.0.0.1:0")).port;
}

/** A client that does not read until told to (its replies pile up in the server). */
async function slowReader(port: number): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1" });
  sockets.push(socket);
  await once(socket, "connect");
  socket.pause();
  return socket;
}

/** Writes `count` 100-byte lines without reading; resolves once the socket took them all. */
async function writeLines(socket: Socket, count: number): Promise<void> {
  const line = `${"y".repeat(99)}\n`;
  for (let n = 0; n < count; n += 1000) {
    if (!socket.write(line.repeat(Math.min(1000, count - n)))) await once(socket, "drain");
  }
}

/**
 * Replies a drain test holds unsent: far more than the kernel can take for a peer that
 * never reads (the server's send buffer grows to 4 MiB at most, the peer's receive buffer
 * only grows as it reads). A pause at the default 256 KiB mark proves nothing under load:
 * loopback delivery can lag, the server pauses, the kernel catches up and everything
 * leaves within the drain timeout. Paused with this much unsent, most of it stays.
 */
const STUCK_BYTES = 8 << 20;
const STUCK_LIMITS: Partial<Limits> = { highWaterBytes: STUCK_BYTES, maxPendingBytes: 4 * STUCK_BYTES };

/**
 * Writes until the server has paused this peer with STUCK_BYTES of replies unsent. A
 * write that fills the socket waits for 'drain' or for that pause, whichever comes
 * first: once the server stops reading, 'drain' may never come.
 */
async function writeUntilStuck(socket: Socket): Promise<void> {
  const chunk = `${"y".repeat(99)}\n`.repeat(1000);
  const stuck = () =>
    server!.stats().backpressurePauses > 0 && (oneConnection()?.pendingBytes ?? 0) >= STUCK_BYTES;
  const deadline = Date.now() + 20_000;
  let writable = true;
  socket.on("drain", () => {
    writable = true;
  });
  while (!stuck()) {
    expect(Date.now()).toBeLessThan(deadline);
    if (writable) writable = socket.write(chunk);
    else await sleep(5); // polls for the pause or 'drain'
  }
}

async function readToEof(socket: Socket, timeoutMs = 15_000): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => {});
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  socket.resume();
  await once(socket, "close");
  clearTimeout(timer);
  return Buffer.concat(chunks).toString("latin1");
}

const oneConnection = () => [...server!.connections.values()][0];

describe("closing a connection to a slow reader", () => {
  it("delivers every reply queued before an error close, though the peer reads only after the linger", async () => {
    // Replies are not throttled (high --high-water) so that MBs wait in the socket.
    const port = await start({ lingerMs: 200, highWaterBytes: 32 << 20, maxPendingBytes: 64 << 20 });
    const socket = await slowReader(port);
    const lines = 60_000;
    await writeLines(socket, lines);
    socket.write(`${"z".repeat(70_000)}\n`); // over the 64 KiB line limit: an error close
    await expect.poll(() => oneConnection()?.status, { timeout: 20_000 }).toBe("closing");
    expect(oneConnection()!.messagesIn).toBe(lines);
    await sleep(1000); // five lingers
    const replies = (await readToEof(socket)).split("\n");
    expect(replies.pop()).toBe("");
    expect(replies.pop()).toBe("ERROR: line exceeds 65536 bytes");
    expect(replies.length).toBe(lines);
    expect(new Set(replies)).toEqual(new Set([`ECHO: ${"y".repeat(99)}`]));
  });

  it("resets a closing peer that does not take its replies within the idle timeout, with a warning", async () => {
    const { logger, lines } = captureLogs();
    const port = await start(
      { lingerMs: 100, idleTimeoutMs: 1000, highWaterBytes: 32 << 20, maxPendingBytes: 64 << 20 },
      logger,
    );
    const socket = await slowReader(port);
    await writeLines(socket, 60_000);
    socket.write(`${"z".repeat(70_000)}\n`);
    await expect.poll(() => server!.connections.size, { timeout: 20_000 }).toBe(0);
    const warning = lines.find(
      (l) => l.msg === "closing: the peer did not read its last replies in time, resetting",
    );
    expect(warning).toMatchObject({ level: 40, waitedMs: 1000 });
    expect(warning!.unsentBytes as number).toBeGreaterThan(0);
    expect(server!.stats().errors.get("ERR_SLOW_CONSUMER")).toBe(1);
    expect(lines.find((l) => l.msg === "disconnect")).toMatchObject({ reason: "slow consumer" });
  });
});

describe("drain timeout", () => {
  let certs: TestCerts;
  beforeAll(async () => {
    certs = await makeTestCerts();
  });

  it("counts the connection it resets with replies unsent (ERR_DRAIN_TIMEOUT) and names the bytes", async () => {
    const { logger, lines } = captureLogs();
    const port = await start(STUCK_LIMITS, logger);
    const socket = await slowReader(port);
    await writeUntilStuck(socket);
    const started = Date.now();
    await server!.shutdown({ drainTimeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server!.stats().errors.get("ERR_DRAIN_TIMEOUT")).toBe(1);
    const cut = lines.find((l) => l.msg === "drain timeout: replies not sent, resetting the connection");
    expect(cut).toMatchObject({ level: 40, inflight: 0, drainTimeoutMs: 500 });
    expect(cut!.unsentBytes as number).toBeGreaterThanOrEqual(256 * 1024);
  });

  it("ends a TLS connection with replies unsent without throwing (node cannot reset under TLS)", async () => {
    server = createEchoServer({
      tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) },
      limits: STUCK_LIMITS,
    });
    const { port } = await server.listen("127.0.0.1:0");
    const socket = tlsConnect({ port, host: "127.0.0.1", servername: "localhost", ca: certs.caPem });
    sockets.push(socket);
    await once(socket, "secureConnect");
    socket.pause();
    await writeUntilStuck(socket);
    await server.shutdown({ drainTimeoutMs: 500 });
    expect(server.stats().errors.get("ERR_DRAIN_TIMEOUT")).toBe(1);
    expect(server.connections.size).toBe(0);
  });
});
