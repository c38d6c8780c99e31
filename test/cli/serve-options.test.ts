// `echoplex serve` takes every flag as a config key: chat options that used to be flags
// only (passTries, floodDisconnect, proxyProtocol, redis), through the real CLI and sockets.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";
import { type RunningRedis, startRedis } from "../helpers/redis.js";

let dir: string;
let clis: RunningCli[] = [];
let redis: RunningRedis | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "echoplex-serve-options-"));
});

afterEach(async () => {
  await Promise.all(clis.map((c) => c.stop("SIGKILL")));
  clis = [];
});

afterAll(async () => {
  await redis?.stop();
});

async function serve(name: string, chat: Record<string, unknown>): Promise<RunningCli> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ log: { format: "json" }, services: { chat } }));
  const cli = await startCli(["serve", "--config", file]);
  clis.push(cli);
  return cli;
}

/** Reads lines until one matches (the welcome and notices come first). */
async function lineMatching(client: TestClient, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const line = await client.readLine();
    if (pattern.test(line)) return line;
  }
  throw new Error(`no line matching ${pattern}`);
}

const PROXY_V1 = "PROXY TCP4 10.9.8.7 127.0.0.1 40000 8081\r\n";

describe("serve config: chat options that were flags only", () => {
  it("passTries, floodDisconnect and proxyProtocol take effect in a chat entry", async () => {
    const cli = await serve("chat.json", {
      address: "127.0.0.1:0",
      password: "s3cret",
      passTries: 1,
      proxyProtocol: true,
      floodRate: 1,
      floodBurst: 1,
      floodDisconnect: 2,
    });
    // proxyProtocol: a connection without the header is refused.
    const bare = await connectClient(cli.port);
    bare.send("/pass s3cret");
    expect(await bare.readToEnd()).toMatch(/PROXY/);

    // passTries: 1 (default 3): one wrong password disconnects.
    const wrong = await connectClient(cli.port);
    wrong.write(PROXY_V1);
    wrong.send("/pass nope");
    expect(await wrong.readToEnd()).toMatch(/wrong password; too many tries, disconnecting/);

    // floodDisconnect: 2 (default 20): a short flood disconnects.
    const flooder = await connectClient(cli.port);
    flooder.write(PROXY_V1);
    flooder.send("/pass s3cret");
    await lineMatching(flooder, /^\* /);
    for (let i = 0; i < 12; i++) flooder.send(`spam ${i}`);
    expect(await flooder.readToEnd()).toMatch(/flooding: disconnecting/);
    // The peer's address is the one the PROXY header gave.
    await expect.poll(() => cli.stderr(), { timeout: 15_000 }).toMatch(/10\.9\.8\.7/);
  });

  it("redis shares a chat between two serve processes", async () => {
    redis = await startRedis();
    const a = await serve("a.json", { address: "127.0.0.1:0", redis: redis.url, history: 0 });
    const b = await serve("b.json", { address: "127.0.0.1:0", redis: redis.url, history: 0 });
    expect(a.stdout()).toMatch(/shared through redis:\/\//);
    const alice = await connectClient(a.port);
    const bob = await connectClient(b.port);
    alice.send("/nick alice");
    await lineMatching(alice, /now known as alice/);
    bob.send("/nick bob");
    await lineMatching(bob, /now known as bob/);
    // Bob joined after alice's rename; alice says something once bob is a member everywhere.
    await expect
      .poll(
        async () => {
          alice.send("/who");
          return lineMatching(alice, /^\* \d+ in #lobby/);
        },
        { timeout: 15_000 },
      )
      .toMatch(/bob/);
    alice.send("hello across");
    expect(await lineMatching(bob, /hello across/)).toBe("<alice> hello across");
  });
});
