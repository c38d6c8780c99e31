// Chat's periodic work runs on the engine's one shared ticker (src/core/ticker.ts):
// the password deadlines while someone is waiting to authenticate, and the Redis
// heartbeat (which also reaps crashed servers) while the transport is connected. A
// stopped chat leaves no task behind.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeTickTasks } from "../../../src/core/ticker.js";
import { createChatServer, RedisTransport } from "../../../src/index.js";
import { connectClient } from "../../helpers/net.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("chat timers on the shared ticker", () => {
  it("checks password deadlines with one task while anyone is waiting, none once nobody is", async () => {
    const before = activeTickTasks();
    const chat = createChatServer({ password: "s3cret", passTimeoutMs: 300, flood: { rate: 0 } });
    const { port } = await chat.listen("127.0.0.1:0");
    const engineOnly = activeTickTasks(); // the engine's idle sweep
    try {
      const late = await connectClient(port);
      expect(await late.readLine()).toMatch(/needs a password/);
      const prompt = await connectClient(port);
      expect(await prompt.readLine()).toMatch(/needs a password/);
      // Two users waiting, one task.
      expect(activeTickTasks()).toBe(engineOnly + 1);

      prompt.send("/pass s3cret");
      expect(await prompt.readLine()).toBe("* password accepted");
      expect(await late.readToEnd(10_000)).toBe("! no password within 300ms, disconnecting\n");
      await waitFor(() => activeTickTasks() === engineOnly, "the deadline task to stop");
      prompt.destroy();
    } finally {
      await chat.shutdown({ drainTimeoutMs: 1000 });
    }
    expect(activeTickTasks()).toBe(before);
  });

  describe("with Redis", () => {
    let redis: RunningRedis;
    let admin: Redis;
    beforeAll(async () => {
      redis = await startRedis();
      admin = new Redis(redis.url);
    });
    afterAll(async () => {
      admin.disconnect();
      await redis.stop("SIGKILL");
    });

    it("refreshes the node's heartbeat from a ticker task, removed with the node on shutdown", async () => {
      const before = activeTickTasks();
      // A TTL a loaded machine cannot outrun (the heartbeat refreshes every TTL/3 = 1 s).
      const chat = createChatServer({ redis: redis.url, redisTtlMs: 3000, redisPrefix: "timers:" });
      await chat.hub.ready(); // connected: the heartbeat task runs; the engine is not listening yet
      expect(activeTickTasks()).toBe(before + 1);
      await chat.listen("127.0.0.1:0");
      const node = (chat.hub.transport as RedisTransport).node;
      expect(chat.hub.transport).toBeInstanceOf(RedisTransport);
      const key = `timers:node:${node}`;
      // The key expires 3 s after each refresh: its TTL going back up twice is the heartbeat at work.
      // A rise between two readings is a refresh (comparing with the first reading alone
      // misses a refresh when that reading came just after the previous one).
      for (let refresh = 0; refresh < 2; refresh++) {
        let last = await admin.pttl(key);
        expect(last).toBeGreaterThan(0);
        await waitFor(async () => {
          const now = await admin.pttl(key);
          const rose = now > last;
          last = now;
          return rose;
        }, "the heartbeat to refresh its key");
      }
      await chat.shutdown({ drainTimeoutMs: 1000 });
      expect(activeTickTasks()).toBe(before);
      expect(await admin.exists(key)).toBe(0);
    });
  });
});
