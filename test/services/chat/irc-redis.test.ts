// An IRC user on one `echoplex chat --redis` node and an nc user on another, through a
// real redis-server: channel messages both ways, NAMES across nodes, private messages,
// 433 for a nick held on the other node, a nick change and a quit.
import type { ChildProcess } from "node:child_process";
import type { Client } from "irc-framework";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { ircUser, startChatWithIrc } from "../../helpers/irc-user.js";
import { ncUser } from "../../helpers/nc-user.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";

const WAIT = 20_000;
let redis: RunningRedis;
const clis: RunningCli[] = [];
const procs: ChildProcess[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await redis.stop("SIGKILL");
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.quit();
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await Promise.all(clis.splice(0).map((c) => c.stop("SIGKILL")));
});

describe("chat --redis with an IRC door", () => {
  it("lets an IRC user on one node and an nc user on another talk, list each other, message privately, collide on a nick, rename and quit", async () => {
    const a = await startChatWithIrc(["--redis", redis.url, "--log-level", "warn"], clis);
    const b = await startCli(["chat", "127.0.0.1:0", "--redis", redis.url, "--log-level", "warn"]);
    clis.push(b);
    const bob = ncUser(b.port, procs, WAIT);
    bob.type("/nick bob");
    await bob.waitFor("is now known as bob");

    const alice = ircUser(a.irc, "bob", clients);
    // bob is held on the other node: 433, and registration waits for another NICK.
    await alice.waitFor(/^:echoplex 433 \* bob :Nickname is already in use$/);
    alice.client.changeNick("alice");
    await alice.waitFor(/^:echoplex 001 alice /);
    alice.client.join("#lobby");
    const names = await alice.waitFor(/^:echoplex 353 alice = #lobby :/);
    expect(names.split(":").at(-1)!.split(" ").sort()).toEqual(["alice", "bob"]);
    await bob.waitFor("* alice joined #lobby");

    alice.client.say("#lobby", "hello from irc on node a");
    await bob.waitFor("<alice> hello from irc on node a");
    bob.type("hello from nc on node b");
    await alice.waitFor(/^:bob!\S+ PRIVMSG #lobby :hello from nc on node b$/);
    alice.client.say("bob", "psst");
    await bob.waitFor("*alice* psst");
    bob.type("/msg alice back at you");
    await alice.waitFor(/^:bob!\S+ PRIVMSG alice :back at you$/);

    alice.client.changeNick("alicia");
    await bob.waitFor("* alice is now known as alicia");
    alice.client.quit("bye");
    await bob.waitFor("* alicia left #lobby (quit: bye)");
  });
});
