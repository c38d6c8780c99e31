// Two users on two servers who took the same nick while Redis was unreachable: when
// Redis is back, the earliest claim keeps the nick everywhere and the other user is
// renamed to a guest nick, told why, and seen renamed by the whole room.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { metric, parseMetrics } from "../../helpers/admin.js";
import { type JsonLog, jsonLogs, type RunningCli, startCli } from "../../helpers/cli.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";
import { type ChatUser, joinChat } from "./chat-user.js";

const DEGRADED = "* chat is degraded: Redis is unreachable, messages reach only this server";
const TAKEN =
  /^\* your nick carol was taken on another server during the Redis outage; you are now (guest-\d+)$/;

let redis: RunningRedis;
const nodes: RunningCli[] = [];
const users: ChatUser[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const u of users.splice(0)) u.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop("SIGKILL")));
  // Each case starts from an empty Redis (restarting it is what the case does anyway).
  await redis.stop("SIGKILL");
  await redis.start();
});
afterAll(async () => {
  await redis.stop("SIGKILL");
});

async function node(): Promise<RunningCli> {
  const cli = await startCli(
    [
      "chat",
      "127.0.0.1:0",
      "--redis",
      redis.url,
      "--flood-rate",
      "0",
      "--admin",
      "0",
      "--log-format",
      "json",
    ],
    { count: 2 },
  );
  nodes.push(cli);
  return cli;
}

async function user(cli: RunningCli, nick: string): Promise<ChatUser> {
  const u = await joinChat(cli.ports.chat!, nick);
  users.push(u);
  return u;
}

/** The nicks `/who` lists right now on the user's server. */
async function who(u: ChatUser): Promise<string[]> {
  u.say("/who");
  const { line } = await u.until(/^\* \d+ in #lobby: /);
  return line
    .replace(/^\* \d+ in #lobby: /, "")
    .split(", ")
    .map((m) => m.replace(/ \(idle \d+[smh]\)$/, ""));
}

/** Asks until `/who` on every given user's server lists exactly `expected` (changes travel through Redis). */
async function whoEverywhere(observers: ChatUser[], expected: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  let seen: string[][] = [];
  while (Date.now() < deadline) {
    seen = await Promise.all(observers.map((o) => who(o)));
    if (seen.every((s) => JSON.stringify(s) === JSON.stringify(expected))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`/who never agreed on ${JSON.stringify(expected)}: last ${JSON.stringify(seen)}`);
}

async function scrape(cli: RunningCli, name: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${cli.ports.admin}/metrics`);
  return metric(parseMetrics(await res.text()), name, { service: "chat" });
}

describe("chat through Redis: the same nick taken on two servers during an outage", () => {
  it.each([
    ["on the first server", 0],
    ["on the second server", 1],
  ] as const)(
    "gives it to the earliest claim (%s) and renames the other user to a guest",
    async (_where, first) => {
      const [na, nb] = [await node(), await node()];
      const ann = await user(na, "ann");
      const alice = await user(na, "alice");
      const ben = await user(nb, "ben");
      const bob = await user(nb, "bob");
      await whoEverywhere([ann, ben], ["alice", "ann", "ben", "bob"]);

      await redis.stop("SIGKILL");
      for (const u of [ann, alice, ben, bob]) await u.until(DEGRADED);
      // Each server only checks its own users now: both renames succeed.
      const [winner, loser] = first === 0 ? [alice, bob] : [bob, alice];
      const [winnerNode, loserNode] = first === 0 ? [na, nb] : [nb, na];
      const [winnerSide, loserSide] = first === 0 ? [ann, ben] : [ben, ann];
      const claimedAt = Date.now();
      winner.say("/nick carol");
      await winner.until(`* ${winner.nick} is now known as carol`);
      // Claims are compared by their millisecond timestamps: make the order unambiguous.
      while (Date.now() <= claimedAt + 2) await new Promise((r) => setTimeout(r, 1));
      loser.say("/nick carol");
      await loser.until(`* ${loser.nick} is now known as carol`);
      await loserSide.until(`* ${loser.nick} is now known as carol`);
      const loserOldNick = loser.nick;
      winner.nick = "carol";

      await redis.start(); // empty: both servers claim carol again
      const { line } = await loser.until(TAKEN, 20_000);
      const guest = TAKEN.exec(line)![1]!;
      loser.nick = guest;
      // The whole room sees an ordinary rename, on both servers.
      for (const u of [ann, ben, winner]) await u.until(`* carol is now known as ${guest}`, 20_000);
      await loser.until(`* carol is now known as ${guest}`);

      await whoEverywhere([ann, ben], ["ann", "ben", "carol", guest]);

      // /msg carol reaches the winner only, from either server.
      winnerSide.say("/msg carol from your server");
      loserSide.say("/msg carol from the other server");
      const got = [(await winner.until(/^\*\w+\* /)).line, (await winner.until(/^\*\w+\* /)).line];
      expect(got.sort()).toEqual(
        [`*${winnerSide.nick}* from your server`, `*${loserSide.nick}* from the other server`].sort(),
      );
      expect((await loser.sync()).filter((l) => l.startsWith("*ann*") || l.startsWith("*ben*"))).toEqual([]);

      // The loser's messages carry the new nick on both servers.
      loser.say("still here");
      expect((await winnerSide.until(/^</)).line).toBe(`<${guest}> still here`);
      expect((await loserSide.until(/^</)).line).toBe(`<${guest}> still here`);
      expect((await winner.until(/^</)).line).toBe(`<${guest}> still here`);

      // The new nick reaches the loser from the other server; the old one is nobody's.
      winnerSide.say(`/msg ${guest} psst`);
      await winnerSide.until(`-> *${guest}* psst`);
      expect((await loser.until(/^\*\w+\* /)).line).toBe(`*${winnerSide.nick}* psst`);
      winnerSide.say(`/msg ${loserOldNick} hello?`);
      await winnerSide.until(`! no such user: ${loserOldNick}`);
      // A newcomer cannot take carol.
      const newcomer = await user(loserNode, "ned");
      newcomer.say("/nick carol");
      await newcomer.until("! nick carol is already taken");

      // Logged and counted where the user was renamed; nothing failed.
      const renamed = jsonLogs(loserNode).filter((l) => /nick was taken on another server/.test(l.msg));
      expect(renamed.map((l) => (l as JsonLog & { level: number }).level)).toEqual([40]);
      expect(await scrape(loserNode, "echoplex_chat_nick_conflicts_total")).toBe(1);
      expect(await scrape(winnerNode, "echoplex_chat_nick_conflicts_total")).toBe(0);
      for (const n of [na, nb]) expect(n.stderr()).not.toMatch(/"level":(50|60)/);

      for (const u of users.splice(0)) u.close();
      expect(await Promise.all(nodes.splice(0).map((n) => n.stop("SIGTERM")))).toEqual([0, 0]);
    },
  );
});
