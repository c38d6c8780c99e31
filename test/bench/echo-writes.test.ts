// The bench's write path: requests written with no callback, and a buffer reused only
// when the kernel took the whole write (a write the stream still holds keeps its buffer).
import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { bench } from "./helpers.js";
import { listen, type TestServer } from "./servers.js";

/**
 * A line echo server ("ECHO: " + line) that reads nothing for its first `stallMs` on each
 * connection: the client's writes back up in its own stream meanwhile.
 */
function slowStartEcho(stallMs: number): Promise<TestServer> {
  const server = createServer((socket: Socket) => {
    socket.pause();
    setTimeout(() => socket.resume(), stallMs);
    let pending: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => {
      let start = 0;
      const out: Buffer[] = [];
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        out.push(Buffer.from("ECHO: "), ...pending, chunk.subarray(start, nl + 1));
        pending = [];
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
      if (out.length > 0) socket.write(Buffer.concat(out));
    });
    socket.on("error", () => {});
  });
  return listen(server);
}

describe("bench echo's write path", () => {
  it("keeps every request intact when writes back up (no buffer reused while the stream holds it)", async () => {
    // 16 requests of 1 MiB in flight per connection: the first flush is more than the
    // socket buffers take while the server is not reading, so the stream keeps the
    // buffer, and the next requests (one per reply) must go into another one.
    const { port, close } = await slowStartEcho(300);
    try {
      const { code, result } = await bench(
        [
          "echo",
          `127.0.0.1:${port}`,
          "--prefix",
          "ECHO: ",
          "--conns",
          "2",
          "--pipeline",
          "16",
          "--size",
          "1m",
          "--requests",
          "64",
        ],
        60_000,
      );
      expect(result.firstMismatch).toBeUndefined();
      expect(result.mismatches).toBe(0);
      expect(result.ok).toBe(64);
      expect(code).toBe(0);
    } finally {
      await close();
    }
  });
});
