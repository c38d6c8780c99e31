// Redis going away in the middle of a chat session, and coming back on the same port:
// the chat servers keep running, users on one server still talk, everyone is told
// once, and delivery across servers resumes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";
import { type ChatUser, joinChat } from "./chat-user.js";

const DEGRADED = "* chat is degraded: Redis is unreachable, messages reach only this server";
const RECOVERED = "* chat recovered: messages reach every server again";

let redis: RunningRedis;
const nodes: RunningCli[] = [];
const users: ChatUser[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const u of users) u.close();
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  await redis.stop("SIGKILL");
});

async function node(...args: string[]): Promise<number> {
  const cli = await startCli(["chat", "127.0.0.1:0", "--redis", redis.url, "--flood-rate", "0", ...args]);
  nodes.push(cli);
  return cli.port;
}

async function user(port: number, nick: string): Promise<ChatUser> {
  const u = await joinChat(port, nick);
  users.push(u);
  return u;
}

/** Reads lines until each pattern has matched one (in any order: the servers recover independently); returns the others. */
async function untilAll(u: ChatUser, patterns: Array<RegExp | string>): Promise<string[]> {
  const left = [...patterns];
  const others: string[] = [];
  while (left.length > 0) {
    const line = await u.client.readLine(15_000);
    const i = left.findIndex((p) => (typeof p === "string" ? line === p : p.test(line)));
    if (i >= 0) left.splice(i, 1);
    else others.push(line);
  }
  return others;
}

describe("chat through Redis when Redis stops and restarts", () => {
  it.each([
    ["SIGKILL", "killed"],
    ["SIGTERM", "stopped"],
  ] as const)("survives Redis being %s (%s) and restarted on the same port", async (signal, _how) => {
    const [pa, pb] = [await node(), await node()];
    const ann = await user(pa, "ann");
    const amy = await user(pa, "amy");
    const bob = await user(pb, "bob");
    await ann.until(/is now known as bob$/);
    await amy.until(/is now known as bob$/);
    ann.say("before");
    await bob.until("<ann> before");
    await amy.until("<ann> before");

    await redis.stop(signal);
    for (const u of [ann, amy, bob]) expect((await u.until(DEGRADED)).before).toEqual([]);
    // Users on the same server still talk to each other; the other server is out of reach.
    ann.say("during");
    expect(await amy.until(/^</)).toEqual({ before: [], line: "<ann> during" });
    bob.say("/who");
    await bob.until(/^\* 1 in #lobby: bob \(idle \d+s\)$/);
    bob.say("alone");
    expect(await bob.sync()).toEqual([]);
    for (const n of nodes) expect(n.proc.exitCode).toBeNull();

    await redis.start(); // empty: the servers register their users again
    // What was said during the outage reaches the other server after recovery, marked late (once).
    expect(await untilAll(ann, [RECOVERED, /^\[late \d+s\] <bob> alone$/])).toEqual([]);
    expect(await untilAll(amy, [RECOVERED, /^\[late \d+s\] <bob> alone$/])).toEqual([]);
    expect(await untilAll(bob, [RECOVERED, /^\[late \d+s\] <ann> during$/])).toEqual([]);
    ann.say("after");
    expect(await bob.until(/^</)).toEqual({ before: [], line: "<ann> after" });
    bob.say("back");
    expect(await ann.until(/^</)).toEqual({ before: [], line: "<bob> back" });
    expect(await amy.until(/^</)).toEqual({ before: [], line: "<ann> after" });
    expect(await amy.until(/^</)).toEqual({ before: [], line: "<bob> back" });
    bob.say("/who");
    await bob.until(/^\* 3 in #lobby: amy \(idle \d+s\), ann \(idle \d+s\), bob \(idle \d+s\)$/);
    // Nicks are claimed again: a newcomer on the other server cannot take one.
    const newcomer = await user(pb, "ned");
    newcomer.say("/nick ann");
    await newcomer.until("! nick ann is already taken");
    // Nothing crashed, and nothing was logged as a failure.
    for (const n of nodes) {
      expect(n.proc.exitCode).toBeNull();
      expect(n.stderr()).not.toMatch(/"level":(50|60)/);
    }
    for (const u of users.splice(0)) u.close();
    expect(await Promise.all(nodes.splice(0).map((n) => n.stop("SIGTERM")))).toEqual([0, 0]);
  });

  it("treats a hung Redis (SIGSTOP: connections open, commands time out) as degraded, and tells other servers who left meanwhile", async () => {
    // Heartbeats outlive the pause (9 s), so nobody is declared lost while Redis is stopped.
    const [pa, pb] = [await node("--redis-ttl", "9s"), await node("--redis-ttl", "9s")];
    const ann = await user(pa, "ann");
    const amy = await user(pa, "amy");
    const bob = await user(pb, "bob");
    await ann.until(/is now known as bob$/);
    bob.say("/who");
    await bob.until(/^\* 3 in #lobby: amy .*, ann .*, bob /);

    redis.signal("SIGSTOP");
    try {
      // Each server finds out when a command times out (2 s).
      ann.say("anyone?");
      bob.say("hello?");
      await ann.until(DEGRADED, 10_000);
      await amy.until(DEGRADED, 10_000);
      await bob.until(DEGRADED, 10_000);
      amy.say("/quit");
      await ann.until("* amy left #lobby (quit)");
    } finally {
      redis.signal("SIGCONT");
    }
    await ann.until(RECOVERED, 15_000);
    // Redis kept amy's membership: her server removes it and tells the others (which
    // may hear it before they notice that Redis is back themselves).
    // (Since the outbox, her departure reaches them as it happened, marked late, and only once.)
    const amyLeft = /^\[late \d+s\] \* amy left #lobby \(quit\)$/;
    const rest = await untilAll(bob, [RECOVERED, amyLeft]);
    expect(rest.filter((line) => line.includes("amy left"))).toEqual([]);
    bob.say("/who");
    await bob.until(/^\* 2 in #lobby: ann \(idle \d+s\), bob \(idle \d+s\)$/);
    ann.say("after the pause");
    await bob.until("<ann> after the pause");
    for (const u of users.splice(0)) u.close();
    expect(await Promise.all(nodes.splice(0).map((n) => n.stop("SIGTERM")))).toEqual([0, 0]);
  });
});
