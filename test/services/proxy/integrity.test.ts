// Bytes through `echoplex proxy` arrive unchanged, in order, under backpressure: the
// upstream's reads share one buffer (onread), so a reply the client's socket could not
// take at once must have been copied out before the next read reuses that buffer.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { connectClient } from "../../helpers/net.js";

// More than the kernel buffers of a loopback connection hold (several MiB each way), so
// the proxy's writes to a client that pauses must queue in the proxy.
const CLIENTS = 4;
const BYTES = 24 * 1024 * 1024;
let upstream: Server;
let cli: RunningCli;

beforeAll(async () => {
  // A plain echo upstream: what a client sends comes back through the proxy's reading side.
  upstream = createServer((socket: Socket) => {
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const port = (upstream.address() as { port: number }).port;
  cli = await startCli(["proxy", "127.0.0.1:0", "--to", `127.0.0.1:${port}`, "--log-level", "warn"]);
});
afterAll(async () => {
  await cli?.stop();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()));
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

it("echoes 4 × 24 MiB of random bytes unchanged through the proxy while the clients read in fits", async () => {
  const results = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const data = randomBytes(BYTES);
      const client = await connectClient(cli.ports.proxy ?? cli.port);
      const received: Buffer[] = [];
      let got = 0;
      const done = new Promise<void>((resolve, reject) => {
        client.socket.removeAllListeners("data");
        client.socket.on("data", (chunk: Buffer) => {
          received.push(chunk);
          got += chunk.length;
          // Reading in fits keeps the proxy's writes to this client queued (asynchronous).
          if (received.length % 64 === 0) {
            client.socket.pause();
            setTimeout(() => client.socket.resume(), 20 + 10 * i);
          }
          if (got >= BYTES) resolve();
        });
        client.socket.once("close", () =>
          got >= BYTES ? resolve() : reject(new Error(`closed after ${got} bytes`)),
        );
      });
      client.socket.write(data);
      await done;
      client.destroy();
      return { sent: sha(data), got: sha(Buffer.concat(received).subarray(0, BYTES)), length: got };
    }),
  );
  for (const r of results) {
    expect(r.length).toBe(BYTES);
    expect(r.got).toBe(r.sent);
  }
}, 60_000);
