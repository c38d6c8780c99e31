// `/history [N]` and the opt-out from the replay on join: the real CLI as a child
// process, users over real sockets (and a real nc), in one process and through a real redis-server.
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";
import { ChatRun, type ChatUser } from "./chat-user.js";

const NO_FLOOD = ["--flood-rate", "1000", "--flood-burst", "1000"];
const USAGE = "! usage: /history [N], /history off, /history on";
const OFF = "* history on join: off (rooms you join from now on; /history on to restore)";

const run = new ChatRun();
const procs: ChildProcess[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await run.stop();
});

const chat = (...args: string[]) => run.server(...NO_FLOOD, ...args);
const user = (port: number, nick?: string) => run.user(port, nick);

/** Sends `line` and returns every line the server answers before a fresh /rooms round trip. */
async function ask(u: ChatUser, line: string): Promise<string[]> {
  u.say(line);
  return u.sync();
}

/** Says `texts` in the user's room and waits until the server has handled them all. */
async function sayAll(u: ChatUser, texts: string[]): Promise<void> {
  for (const text of texts) u.say(text);
  await u.sync();
}

const replayOf = (room: string, lines: string[]) => [
  `* last ${lines.length} ${lines.length === 1 ? "message" : "messages"} in ${room}:`,
  ...lines,
  "* end of history",
];

describe("chat /history: one server", () => {
  it("replays the room's last N messages, marked like the join replay, to the asker only", async () => {
    const port = await chat("--history", "5");
    const alice = await user(port, "alice");
    const bob = await user(port, "bob");
    await alice.until(/is now known as bob$/);
    await sayAll(alice, ["one", "two", "three", "four", "five", "six", "/me is done"]);
    expect(await bob.sync()).toEqual([
      "<alice> one",
      "<alice> two",
      "<alice> three",
      "<alice> four",
      "<alice> five",
      "<alice> six",
      "* alice is done",
    ]);

    expect(await ask(bob, "/history 2")).toEqual(replayOf("#lobby", ["<alice> six", "* alice is done"]));
    expect(await ask(bob, "/HISTORY 1")).toEqual(replayOf("#lobby", ["* alice is done"]));
    const lastFive = ["<alice> three", "<alice> four", "<alice> five", "<alice> six", "* alice is done"];
    // No N: everything the room keeps (--history); a larger N is capped at that.
    expect(await ask(bob, "/history")).toEqual(replayOf("#lobby", lastFive));
    expect(await ask(bob, "/history 100")).toEqual(replayOf("#lobby", lastFive));
    expect(await ask(bob, "/history 99999999999999999999999")).toEqual(replayOf("#lobby", lastFive));
    // The asker's room only, and nobody else sees the replay.
    bob.say("/join #dev");
    await bob.until("* bob joined #dev");
    expect(await ask(bob, "/history")).toEqual(["* no history in #dev"]);
    expect(await alice.sync()).toEqual(["* bob left #lobby (moved to #dev)"]);
  });

  it("answers a usage line to an N that is not a positive integer, and stays usable", async () => {
    const port = await chat("--history", "5");
    const alice = await user(port, "alice");
    await sayAll(alice, ["hello"]);
    for (const bad of ["0", "-1", "abc", "2.5", "1e3", "0x10", "3 4", "offf"]) {
      expect(await ask(alice, `/history ${bad}`), bad).toEqual([USAGE]);
    }
    expect(await ask(alice, "/history 1")).toEqual(replayOf("#lobby", ["<alice> hello"]));
  });

  it("says there is no history when the server keeps none (--history 0)", async () => {
    const port = await chat("--history", "0");
    const alice = await user(port, "alice");
    await sayAll(alice, ["hello"]);
    expect(await ask(alice, "/history")).toEqual(["* no history in #lobby"]);
  });

  it("/history off stops the replay when joining a room, /history on restores it; /history still answers", async () => {
    const port = await chat("--history", "5");
    const alice = await user(port, "alice");
    alice.say("/join #dev");
    await alice.until("* alice joined #dev");
    await sayAll(alice, ["dev one", "dev two"]);

    const bot = await user(port, "bot");
    expect(await ask(bot, "/history off")).toEqual([OFF]);
    bot.say("/join #dev");
    expect((await bot.until("* bot joined #dev")).before).toEqual([]);
    // Asking is not opting out: the explicit command still replays.
    expect(await ask(bot, "/history")).toEqual(replayOf("#dev", ["<alice> dev one", "<alice> dev two"]));

    bot.say("/join #lobby");
    await bot.until("* bot joined #lobby");
    expect(await ask(bot, "/history ON")).toEqual(["* history on join: on"]);
    bot.say("/join #dev");
    expect((await bot.until("* bot joined #dev")).before).toEqual(
      replayOf("#dev", ["<alice> dev one", "<alice> dev two"]),
    );
  });

  it("lists /history in /help", async () => {
    const port = await chat();
    const alice = await user(port);
    const help = await ask(alice, "/help");
    expect(help.filter((l) => l.includes("/history"))).toEqual([
      "*   /history [N]      the last N messages of your room (default: all it keeps)",
      "*   /history off|on   stop (or restart) the history shown when you join a room",
    ]);
  });

  it("works for a real nc user", async () => {
    const port = await chat("--history", "5");
    const alice = await user(port, "alice");
    await sayAll(alice, ["one", "two", "three"]);
    const proc = spawn("nc", ["127.0.0.1", String(port)], { stdio: ["pipe", "pipe", "inherit"] });
    procs.push(proc);
    let out = "";
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 10_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline)
          throw new Error(`nc did not print ${JSON.stringify(text)}; got ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor("joined #lobby\n");
    proc.stdin!.write("/history 2\n/history zero\n/quit\n");
    await waitFor("* bye\n");
    const after = out.slice(out.indexOf("joined #lobby\n") + "joined #lobby\n".length);
    expect(after).toBe(
      [...replayOf("#lobby", ["<alice> two", "<alice> three"]), USAGE, "* bye", ""].join("\n"),
    );
  });
});

describe("chat /history through Redis", () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop("SIGKILL");
  });

  it("replays the Redis history of the room to a user on another server; the opt-out holds there too", async () => {
    const shared = ["--redis", redis.url, "--history", "3"];
    const [pa, pb] = [await chat(...shared), await chat(...shared)];
    const alice = await user(pa, "alice");
    alice.say("/join #dev");
    await alice.until("* alice joined #dev");
    await sayAll(alice, ["one", "two", "three", "four"]);

    const bob = await user(pb, "bob");
    expect(await ask(bob, "/history off")).toEqual([OFF]);
    bob.say("/join #dev");
    expect((await bob.until("* bob joined #dev")).before).toEqual([]);
    expect(await ask(bob, "/history 2")).toEqual(replayOf("#dev", ["<alice> three", "<alice> four"]));
    expect(await ask(bob, "/history")).toEqual(
      replayOf("#dev", ["<alice> two", "<alice> three", "<alice> four"]),
    );
    expect(await ask(bob, "/history 0")).toEqual([USAGE]);

    // Messages said after bob joined are in the history he asks for.
    await sayAll(alice, ["five"]);
    await bob.until("<alice> five");
    expect(await ask(bob, "/history 2")).toEqual(replayOf("#dev", ["<alice> four", "<alice> five"]));
  });
});
