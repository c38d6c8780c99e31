import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/net.js";
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
    const port = await freePort();
    const redis = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
        redis.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("Ready to accept connections")) {
            clearTimeout(timer);
            resolve();
          }
        });
        redis.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
      });
      const { code, result } = await bench([
        "cmd",
        `127.0.0.1:${port}`,
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
      redis.kill("SIGKILL");
    }
  });
});
