// Chat through Redis by room: a server listens only on the channels of rooms with
// local members (sharded pub/sub on this Redis 7, classic when forced), and what a
// server accepted while Redis was down reaches the others after recovery, marked
// late, from a bounded outbox. Real redis-server, real CLI children, nc users.
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, metric, scrape } from "../../helpers/admin.js";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { ncUser } from "../../helpers/nc-user.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";
import { until } from "../../helpers/until.js";
import { type ChatUser, joinChat } from "./chat-user.js";

const DEGRADED = "* chat is degraded: Redis is unreachable, messages reach only this server";
const RECOVERED = "* chat recovered: messages reach every server again";
const CHANNEL = "echoplex:chat:events:";

let redis: RunningRedis;
let admin: Redis;
const nodes: RunningCli[] = [];
const users: ChatUser[] = [];
const procs: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 200 });
  await admin.connect();
});
afterAll(async () => {
  admin.disconnect();
  await redis.stop("SIGKILL");
});
beforeEach(async () => {
  // The outage tests restart redis-server: wait for this client to be back before
  // flushing, or the next test meets the last one's nicks and history.
  await until(() => admin.status === "ready", "the Redis admin client to reconnect");
  await admin.flushall();
});
afterEach(async () => {
  for (const u of users.splice(0)) u.close();
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await Promise.all(nodes.splice(0).map((n) => n.stop("SIGKILL")));
});

async function node(...args: string[]): Promise<RunningCli> {
  const cli = await startCli(
    ["chat", "127.0.0.1:0", "--redis", redis.url, "--flood-rate", "0", "--admin", "0", ...args],
    { count: 2 },
  );
  nodes.push(cli);
  return cli;
}

async function user(cli: RunningCli, nick?: string): Promise<ChatUser> {
  const u = await joinChat(cli.ports.chat!, nick);
  users.push(u);
  return u;
}

async function counter(cli: RunningCli, name: string): Promise<number> {
  return metric(await scrape(cli.ports.admin!), `echoplex_chat_redis_${name}`) ?? Number.NaN;
}

const room = (i: number) => `#r${String(i).padStart(2, "0")}`;

describe("chat through Redis: a channel per room", () => {
  it("3 servers, 30 rooms, 10 with members on each: each server listens on and receives only its rooms' events", async () => {
    const servers = [await node(), await node(), await node()];
    const members: ChatUser[] = [];
    for (let i = 0; i < 30; i++) {
      const u = await user(servers[Math.floor(i / 10)]!);
      u.say(`/join ${room(i)}`);
      await u.until(`* ${u.nick} joined ${room(i)}`);
      members.push(u);
    }

    // What Redis reports: 30 shard channels (#lobby's went with its last member), one subscriber each,
    // and each server's subscription connection on exactly 10 of them.
    const channels = ((await admin.call("PUBSUB", "SHARDCHANNELS", `${CHANNEL}*`)) as string[]).sort();
    expect(channels).toEqual(Array.from({ length: 30 }, (_, i) => `${CHANNEL}${room(i)}`));
    const numsub = (await admin.call("PUBSUB", "SHARDNUMSUB", ...channels)) as Array<string | number>;
    for (let i = 1; i < numsub.length; i += 2) expect(numsub[i]).toBe(1);
    expect((await admin.call("PUBSUB", "CHANNELS", `${CHANNEL}*`)) as string[]).toEqual([]);
    const clients = (await admin.call("CLIENT", "LIST")) as string;
    const ssubs = [...clients.matchAll(/ ssub=(\d+)/g)].map((m) => Number(m[1])).filter((n) => n > 0);
    expect(ssubs).toEqual([10, 10, 10]);
    for (const s of servers) {
      expect(await counter(s, "room_channels")).toBe(10);
      expect(await counter(s, "sharded_pubsub")).toBe(1);
    }

    // One message in each room; then a fence event on each server's first room, published after
    // all 30 were confirmed: once a server's user sees it, everything before it has arrived.
    const before = await Promise.all(servers.map((s) => counter(s, "events_received_total")));
    const published = await Promise.all(servers.map((s) => counter(s, "events_published_total")));
    for (let i = 0; i < 30; i++) members[i]!.say(`m${i}`);
    await eventually(async () => {
      const now = await Promise.all(servers.map((s) => counter(s, "events_published_total")));
      return now.every((n, k) => n === published[k]! + 10);
    }, "each server's 10 messages confirmed by Redis");
    for (const k of [0, 1, 2]) {
      const fence = { kind: "say", room: room(k * 10), from: { id: "f:1", nick: "fence" }, text: "f", ts: 1 };
      await admin.spublish(`${CHANNEL}${room(k * 10)}`, `fence-node\n${JSON.stringify(fence)}`);
      await members[k * 10]!.until("<fence> f");
    }
    const after = await Promise.all(servers.map((s) => counter(s, "events_received_total")));
    // Its 10 rooms' messages and the fence; with one channel for all it would be 30 and 3 fences.
    expect(after.map((n, k) => n - before[k]!)).toEqual([11, 11, 11]);
  });

  it("subscribes a room's channel when its first local member enters and drops it when the last leaves", async () => {
    const [a, b] = [await node(), await node()];
    const ann = await user(a, "ann");
    const bob = await user(b, "bob");
    await ann.until(/is now known as bob$/);
    bob.say("/join #side");
    await bob.until("* bob joined #side");
    expect(await admin.call("PUBSUB", "SHARDNUMSUB", `${CHANNEL}#side`, `${CHANNEL}#lobby`)).toEqual([
      `${CHANNEL}#side`,
      1,
      `${CHANNEL}#lobby`,
      1,
    ]);
    // ann follows: her server subscribes before she is announced, so she hears what comes next.
    ann.say("/join #side");
    await bob.until("* ann joined #side");
    bob.say("welcome");
    await ann.until("<bob> welcome");
    bob.say("/join #lobby");
    await ann.until("* bob left #side (moved to #lobby)");
    ann.say("/join #lobby");
    await bob.until("* ann joined #lobby");
    expect(await admin.call("PUBSUB", "SHARDNUMSUB", `${CHANNEL}#side`, `${CHANNEL}#lobby`)).toEqual([
      `${CHANNEL}#side`,
      0,
      `${CHANNEL}#lobby`,
      2,
    ]);
  });

  it("falls back to classic pub/sub when told to (--redis-pubsub classic), with the same per-room layout", async () => {
    const [a, b] = [await node("--redis-pubsub", "classic"), await node("--redis-pubsub", "classic")];
    const ann = await user(a, "ann");
    const bob = await user(b, "bob");
    await ann.until(/is now known as bob$/);
    bob.say("hello over classic pub/sub");
    await ann.until("<bob> hello over classic pub/sub");
    ann.say("/msg bob psst");
    await bob.until("*ann* psst");
    expect(await admin.call("PUBSUB", "SHARDCHANNELS")).toEqual([]);
    expect(await admin.call("PUBSUB", "NUMSUB", `${CHANNEL}#lobby`)).toEqual([`${CHANNEL}#lobby`, 2]);
    expect(await counter(a, "sharded_pubsub")).toBe(0);
  });
});

describe("chat through Redis: the outage outbox", () => {
  /** nc users alice and amy on A, bob on B; Redis stops, alice says `lines`, amy sees them; Redis restarts. */
  async function outage(a: RunningCli, b: RunningCli, lines: string[]) {
    const alice = ncUser(a.ports.chat!, procs);
    await alice.waitFor("joined #lobby");
    alice.type("/nick alice");
    await alice.waitFor("is now known as alice");
    const amy = ncUser(a.ports.chat!, procs);
    await amy.waitFor("joined #lobby");
    const bob = ncUser(b.ports.chat!, procs);
    await bob.waitFor("joined #lobby");
    alice.type("before");
    await bob.waitFor("<alice> before");

    await redis.stop("SIGKILL");
    for (const u of [alice, amy, bob]) await u.waitFor(DEGRADED);
    for (const line of lines) alice.type(line);
    // Accepted by A: its other user saw them at once.
    await amy.waitFor(`<alice> ${lines.at(-1)}`);
    await redis.start();
    for (const u of [alice, amy, bob]) await u.waitFor(RECOVERED, 20_000);
    return { alice, amy, bob };
  }

  it("delivers what an nc user said during an outage to the other server after recovery, in order, marked late, once", async () => {
    const [a, b] = [await node(), await node()];
    const lines = ["during 1", "during 2", "during 3", "/me waves", "during 4"];
    const { alice, amy, bob } = await outage(a, b, lines);
    await bob.waitFor("* alice waves", 20_000);
    alice.type("after");
    await bob.waitFor("<alice> after");
    const got = bob
      .output()
      .split("\n")
      .filter((l) => /during|waves|after/.test(l));
    expect(got.map((l) => l.replace(/^\[late \d+s\] /, "[late] "))).toEqual([
      "[late] <alice> during 1",
      "[late] <alice> during 2",
      "[late] <alice> during 3",
      "[late] * alice waves",
      "[late] <alice> during 4",
      "<alice> after",
    ]);
    // The sender's own server delivered them once, when they were said, unmarked.
    await amy.waitFor("<alice> after");
    expect(amy.output().match(/during \d/g)).toEqual(["during 1", "during 2", "during 3", "during 4"]);
    expect(amy.output()).not.toContain("[late");
    expect(await counter(a, "late_events_total")).toBe(5);
    expect(await counter(a, "outbox_dropped_total")).toBe(0);
  }, 90_000);

  it("keeps at most --redis-outbox events: the rest are dropped, counted and logged", async () => {
    const a = await node("--redis-outbox", "2", "--log-format", "json");
    const b = await node();
    const { alice, bob } = await outage(a, b, ["kept 1", "kept 2", "lost 3", "lost 4", "lost 5"]);
    await bob.waitFor("<alice> kept 2", 20_000);
    alice.type("after");
    await bob.waitFor("<alice> after");
    expect(bob.output()).toMatch(/\[late \d+s\] <alice> kept 1\n\[late \d+s\] <alice> kept 2\n/);
    expect(bob.output()).not.toContain("lost");
    expect(await counter(a, "outbox_dropped_total")).toBe(3);
    expect(await counter(a, "late_events_total")).toBe(2);
    // One warning for the three (throttled), naming the code.
    const warnings = a
      .stderr()
      .split("\n")
      .filter((l) => l.includes("Redis outbox full"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"code":"ERR_REDIS_OUTBOX_FULL"');
  }, 90_000);
});
