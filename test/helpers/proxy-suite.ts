// What every proxy test file sets up: one real redis-server for the file, and the
// echoplex CLI each test starts, stopped after it (even when it fails).
import { afterAll, afterEach, beforeAll } from "vitest";
import { type RunningCli, startCli } from "./cli.js";
import { type RunningRedis, startRedis } from "./redis.js";

export interface ProxySuite {
  /** The file's redis-server (started before its first test). */
  readonly redis: RunningRedis;
  /** Starts `echoplex ...args` as this test's CLI (stopped after the test); waits for `count` listening lines. */
  start(args: string[], count?: number): Promise<RunningCli>;
}

/** Registers the file's hooks; call once at the top of a test file. */
export function proxySuite(): ProxySuite {
  let redis: RunningRedis | undefined;
  const clis: RunningCli[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await Promise.all(clis.splice(0).map((c) => c.stop()));
  });
  return {
    get redis() {
      if (redis === undefined) throw new Error("redis-server is started in beforeAll");
      return redis;
    },
    async start(args, count = 1) {
      const cli = await startCli(args, { count });
      clis.push(cli);
      return cli;
    },
  };
}
