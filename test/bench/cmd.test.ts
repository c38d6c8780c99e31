import { describe, expect, it } from "vitest";
import { startRedis } from "../helpers/redis.js";
import { bench } from "./helpers.js";
import { lineServer, listen } from "./servers.js";

describe("bench cmd", () => {
  it("sends the request line and counts exact replies, checked with --expect", async () => {
    let requests = 0;
    const srv = await listen(
      lineServer((socket, line) => {
        requests++;
        socket.write(line === "PING" ? "PONG\n" : `ERR unknown command ${line}\n`);
      }),
    );
    try {
      const { code, result } = await bench([
        "cmd",
        `127.0.0.1:${srv.port}`,
        "--expect",
        "PONG",
        "--conns",
        "4",
        "--pipeline",
        "16",
        "--requests",
        "4000",
      ]);
      expect(code).toBe(0);
      expect(requests).toBe(4000);
      expect(result.sent).toBe(4000);
      expect(result.ok).toBe(4000);
      expect(result.mismatches).toBe(0);

      const wrong = await bench([
        "cmd",
        `127.0.0.1:${srv.port}`,
        "--message",
        "PANG",
        "--expect",
        "PONG",
        "--requests",
        "10",
      ]);
      expect(wrong.code).toBe(1);
      expect(wrong.result.mismatches).toBe(10);
      expect(wrong.result.firstMismatch).toContain("ERR unknown command PANG");
    } finally {
      await srv.close();
    }
  });

  it("benchmarks redis-server with inline PING", async () => {
    const redis = await startRedis();
    try {
      const { code, result } = await bench([
        "cmd",
        `127.0.0.1:${redis.port}`,
        "--message",
        "PING",
        "--expect",
        "+PONG",
        "--conns",
        "10",
        "--pipeline",
        "8",
        "--requests",
        "20000",
      ]);
      expect(code).toBe(0);
      expect(result.ok).toBe(20000);
      expect(result.msgsPerSec).toBeGreaterThan(0);
    } finally {
      await redis.stop("SIGKILL");
    }
  });
});
