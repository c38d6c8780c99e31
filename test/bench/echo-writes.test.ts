// The bench's write path and its CPU figures: requests written with no callback, a
// buffer reused only when the kernel took the whole write, and the steady-state CPU
// per reply measured inside the window.
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

let echo: RunningCli;
beforeAll(async () => {
  echo = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
});
afterAll(async () => {
  await echo?.stop();
});

/**
 * A line echo server ("ECHO: " + line) that reads nothing for its first `stallMs` on each
 * connection: the client's writes back up in its own stream meanwhile.
 */
async function slowStartEcho(stallMs: number): Promise<{ port: number; server: Server }> {
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
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, server };
}

describe("bench echo's write path", () => {
  it("keeps every request intact when writes back up (no buffer reused while the stream holds it)", async () => {
    // 16 requests of 1 MiB in flight per connection: the first flush is more than the
    // socket buffers take while the server is not reading, so the stream keeps the
    // buffer, and the next requests (one per reply) must go into another one.
    const { port, server } = await slowStartEcho(300);
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
      server.close();
    }
  });

  it("reports the CPU per reply inside the measured window, without start-up and warm-up", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${echo.port}`,
      "--conns",
      "4",
      "--duration",
      "1s",
      "--warmup",
      "500ms",
    ]);
    expect(code).toBe(0);
    expect(result.measured).toBeGreaterThan(100);
    expect(result.windowCpuUs).toBeGreaterThan(0);
    // The window is part of the run: its CPU is less than the whole run's.
    expect(result.windowCpuUs).toBeLessThan(result.cpuUs);
    expect(result.windowCpuUsPerReply).toBeCloseTo(result.windowCpuUs / result.measured, 1);
  });
});
