// Chat across processes through a real redis-server: several `echoplex chat --redis`
// child processes on different ports, users over real sockets on each.
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startCli } from "../../helpers/cli.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";
import { type ChatUser, joinChat } from "./chat-user.js";

const NO_FLOOD = ["--flood-rate", "0"];

let redis: RunningRedis;
let admin: Redis;
const nodes: RunningCli[] = [];
const users: ChatUser[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin.disconnect();
  await redis.stop("SIGKILL");
});
beforeEach(async () => {
  await admin.flushall();
});
afterEach(async () => {
  for (const u of users.splice(0)) u.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop("SIGKILL")));
});

async function node(...args: string[]): Promise<number> {
  const cli = await startCli(["chat", "127.0.0.1:0", "--redis", redis.url, ...NO_FLOOD, ...args]);
  nodes.push(cli);
  return cli.port;
}

async function user(port: number, nick?: string): Promise<ChatUser> {
  const u = await joinChat(port, nick);
  users.push(u);
  return u;
}

/** Retries `check` (which reads a fresh answer each time) until it holds, for changes that travel through Redis. */
// 10 s: Redis and the node processes share a possibly loaded machine.
async function eventually(check: () => Promise<boolean>, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition never held");
}

/** Reads `n` messages from each of `senders`, failing on any other line. */
async function collect(reader: ChatUser, senders: string[], n: number): Promise<Record<string, string[]>> {
  const got: Record<string, string[]> = Object.fromEntries(senders.map((s) => [s, []]));
  while (Object.values(got).some((a) => a.length < n)) {
    const line = await reader.client.readLine(10_000);
    const m = /^<([^>]+)> (.*)$/.exec(line);
    if (m === null || got[m[1]!] === undefined) throw new Error(`unexpected line: ${line}`);
    got[m[1]!]!.push(m[2]!);
  }
  return got;
}

describe("chat through Redis: two servers", () => {
  it("users on each see each other's joins, messages, actions, renames, private messages and leaves", async () => {
    const [pa, pb] = [await node(), await node()];
    const alice = await user(pa, "alice");
    const bob = await user(pb);
    // Guest numbers come from Redis: unique across servers.
    expect(bob.nick).toMatch(/^guest-\d+$/);
    await alice.until(`* ${bob.nick} joined #lobby`);
    bob.say("/nick bob");
    await alice.until(`* ${bob.nick} is now known as bob`);
    await bob.until(`* ${bob.nick} is now known as bob`);
    bob.nick = "bob";

    alice.say("hello from A");
    expect(await bob.until(/^</)).toEqual({ before: [], line: "<alice> hello from A" });
    bob.say("/me waves from B");
    expect(await alice.until(/waves/)).toEqual({ before: [], line: "* bob waves from B" });

    alice.say("/msg BOB psst");
    await alice.until("-> *bob* psst");
    expect(await bob.until(/psst/)).toEqual({ before: [], line: "*alice* psst" });
    bob.say("/msg alice back");
    expect(await alice.until(/back/)).toEqual({ before: [], line: "*bob* back" });

    bob.say("/who");
    await bob.until(/^\* 2 in #lobby: alice \(idle \d+s\), bob \(idle \d+s\)$/);
    alice.say("/join #dev");
    await alice.until("* alice joined #dev");
    await bob.until("* alice left #lobby (moved to #dev)");
    bob.say("/rooms");
    await bob.until("* rooms: #dev (1), #lobby (1)");

    alice.close();
    await eventually(async () => {
      bob.say("/rooms");
      return (await bob.until(/^\* rooms: /)).line === "* rooms: #lobby (1)";
    });
  });

  it("refuses on B a nick held on A (in any case), and frees it when its holder leaves", async () => {
    const [pa, pb] = [await node(), await node()];
    const alice = await user(pa, "alice");
    const other = await user(pb);
    other.say("/nick Alice");
    await other.until("! nick Alice is already taken");
    other.say("/msg nobody hi");
    await other.until("! no such user: nobody");
    alice.say("/quit");
    await alice.client.readToEnd();
    // The release travels through Redis; try until it is through.
    await eventually(async () => {
      other.say("/nick Alice");
      return (await other.until(/is now known as Alice|already taken/)).line.endsWith("known as Alice");
    });
  });

  it("replays a room's history to someone who joins on another server", async () => {
    const [pa, pb] = [await node("--history", "3"), await node("--history", "3")];
    const alice = await user(pa, "alice");
    alice.say("/join #dev");
    await alice.until("* alice joined #dev");
    for (const text of ["one", "two", "three", "four"]) alice.say(text);
    alice.say("/me is done");
    await alice.sync();
    const bob = await user(pb, "bob");
    bob.say("/join #dev");
    const { before } = await bob.until("* bob joined #dev");
    expect(before).toEqual([
      "* last 3 messages in #dev:",
      "<alice> three",
      "<alice> four",
      "* alice is done",
      "* end of history",
    ]);
  });

  it("removes the users of a crashed server after --redis-ttl: they leave their rooms and their nicks are free", async () => {
    const pa = await node("--redis-ttl", "900ms");
    const pb = await node("--redis-ttl", "900ms");
    const alice = await user(pa, "alice");
    const bob = await user(pb, "bob");
    await alice.until(/is now known as bob$/);
    await nodes[1]!.stop("SIGKILL");
    await alice.until("* bob left #lobby (server lost)", 10_000);
    alice.say("/who");
    await alice.until(/^\* 1 in #lobby: alice \(idle \d+s\)$/);
    const again = await user(pa);
    again.say("/nick bob");
    await again.until(`* ${again.nick} is now known as bob`);
    await bob.client.closedPromise;
  });
});

describe("chat through Redis: order", () => {
  it("keeps one user's commands and messages in order as seen on another server", async () => {
    const [pa, pb] = [await node(), await node()];
    const watcher = await user(pb, "watcher");
    const fast = await user(pa, "fast");
    await watcher.until(/is now known as fast$/);
    // One packet: renames, messages and room changes, each waiting on Redis differently.
    fast.client.write("/nick quick\nfirst\n/join #b\nsecond\n/join #lobby\nthird\n");
    const seen = await watcher.until("<quick> third");
    expect(seen.before).toEqual([
      "* fast is now known as quick",
      "<quick> first",
      "* quick left #lobby (moved to #b)",
      "* quick joined #lobby",
    ]);
  });
});

describe("chat through Redis: what others publish", () => {
  it("ignores malformed events on the channel and keeps serving", async () => {
    const [pa, pb] = [await node(), await node()];
    const alice = await user(pa, "alice");
    const bob = await user(pb, "bob");
    await alice.until(/is now known as bob$/);
    for (const junk of ["junk", "x\n{not json", 'x\n{"kind":"notice","room":"#lobby","text":"fake"}']) {
      await admin.spublish("echoplex:chat:events:#lobby", junk);
    }
    bob.say("still here");
    expect(await alice.until(/^</)).toEqual({ before: [], line: "<bob> still here" });
    expect(nodes[0]!.stderr()).toMatch(/ignoring a malformed chat event from Redis/);
    for (const n of nodes) expect(n.proc.exitCode).toBeNull();
  });
});

describe("chat through Redis: three servers", () => {
  it("delivers every user's messages to the other two servers, in the order each was sent", async () => {
    const ports = [await node(), await node(), await node()];
    const people = [await user(ports[0]!, "ann"), await user(ports[1]!, "ben"), await user(ports[2]!, "cat")];
    const [ann, ben, cat] = people as [ChatUser, ChatUser, ChatUser];
    await ann.until(/is now known as cat$/);
    await ben.until(/is now known as cat$/);
    ben.say("/who");
    await ben.until(/^\* 3 in #lobby: ann \(idle \d+s\), ben \(idle \d+s\), cat \(idle \d+s\)$/);

    const N = 200;
    for (let i = 0; i < N; i++) ann.say(`a${i}`);
    for (let i = 0; i < N; i++) cat.say(`c${i}`);
    const numbered = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}${i}`);
    expect(await collect(ben, ["ann", "cat"], N)).toEqual({ ann: numbered("a"), cat: numbered("c") });
    expect(await collect(cat, ["ann"], N)).toEqual({ ann: numbered("a") });
    expect(await collect(ann, ["cat"], N)).toEqual({ cat: numbered("c") });
  });
});

describe("chat --redis: start-up errors", () => {
  it("refuses --workers > 1 without --redis, and a bad --redis URL, with one line and exit 2", async () => {
    const workers = await runCli(["chat", "127.0.0.1:0", "--workers", "2"]);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toMatch(
      /^echoplex: error: chat with --workers > 1 needs --redis URL: .* \(ERR_BAD_OPTION\)\n$/,
    );
    const bad = await runCli(["chat", "127.0.0.1:0", "--redis", "http://x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^echoplex: error: bad --redis "http:\/\/x": .* \(ERR_BAD_OPTION\)\n$/);
  });

  it("fails with one line and exit 1 when Redis cannot be reached at start", async () => {
    // The port of a Redis that is not running: start one, note its port, stop it.
    const gone = await startRedis();
    await gone.stop();
    const result = await runCli(["chat", "127.0.0.1:0", "--redis", gone.url, "--log-level", "silent"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^echoplex: error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.* \(ERR_CONNECT_FAILED\)\n$/,
    );
  });
});
