// A reply a handler sends after its connection began to close (an async answer that
// settles late) must not cost the peer the replies queued before the close: writing to
// an ended socket would make Node destroy it, and everything still in its buffer with it.
import { connect } from "node:net";
import { afterEach, expect, it } from "vitest";
import { createServer, type EchoplexServer } from "../../src/core/server.js";

let server: EchoplexServer<undefined> | undefined;

afterEach(async () => {
  await server?.shutdown({ drainTimeoutMs: 500 });
  server = undefined;
});

it("a late send after close() is dropped; the replies queued before the close all arrive", async () => {
  const reply = Buffer.alloc(64 * 1024, "x");
  let lateSent!: () => void;
  const late = new Promise<void>((resolve) => {
    lateSent = resolve;
  });
  const count = 96; // 6 MiB: more than loopback's kernel buffers hold (so some waits in the socket), under --max-pending
  server = createServer({
    handler: {
      createState: () => undefined,
      onMessage(conn, payload) {
        if (payload.toString() === "late") {
          return new Promise<void>((resolve) =>
            setTimeout(() => {
              conn.send("too late");
              resolve();
              lateSent();
            }, 300),
          );
        }
        for (let i = 0; i < count; i++) conn.send(reply);
        conn.close();
        return undefined;
      },
    },
  });
  const { port } = await server.listen("127.0.0.1:0");
  const socket = connect(port, "127.0.0.1");
  socket.pause();
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write("late\nbulk\n");
  // Not reading until the late send has happened: the bulk waits in the server's socket.
  await late;
  await new Promise((resolve) => setImmediate(resolve));
  let received = 0;
  let reset = false;
  socket.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  socket.on("error", () => {
    reset = true;
  });
  socket.resume();
  await new Promise<void>((resolve) => socket.once("close", () => resolve()));
  expect(reset).toBe(false);
  expect(received).toBe(count * (reply.length + 1));
});
