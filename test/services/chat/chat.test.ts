// The chat service end to end: the real CLI as a child process, users over real sockets.
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { connectClient, sleep } from "../../helpers/net.js";
import { type ChatUser, joinChat } from "./chat-user.js";

// Most tests are about who receives what, not about flood control: give them room.
const NO_FLOOD = ["--flood-rate", "1000", "--flood-burst", "1000"];

let cli: RunningCli | undefined;
const users: ChatUser[] = [];

async function chat(...args: string[]): Promise<number> {
  cli = await startCli(["chat", "127.0.0.1:0", ...args]);
  return cli.port;
}

async function user(port: number, nick?: string): Promise<ChatUser> {
  const u = await joinChat(port, nick);
  users.push(u);
  return u;
}

afterEach(async () => {
  for (const u of users.splice(0)) u.close();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

describe("chat: arriving, talking, leaving", () => {
  it("welcomes with a guest nick, announces joins to the room, and does not echo to the sender", async () => {
    const port = await chat(...NO_FLOOD);
    const a = await user(port);
    expect(a.nick).toMatch(/^guest-\d+$/);
    const b = await user(port);
    expect(b.nick).not.toBe(a.nick);
    expect((await a.until(`* ${b.nick} joined #lobby`)).before).toEqual([]);

    a.say("hello everyone");
    expect(await b.until(`<${a.nick}> hello everyone`)).toEqual({
      before: [],
      line: `<${a.nick}> hello everyone`,
    });
    expect(await a.sync()).toEqual([]); // not echoed back

    b.close();
    await a.until(`* ${b.nick} left #lobby (connection closed)`);
  });

  it("echoes to the sender with --echo-self, shows the MOTD, and says /me as an action", async () => {
    const port = await chat(...NO_FLOOD, "--echo-self", "--motd", "be nice");
    const client = await connectClient(port);
    const [welcome, motd] = await client.readLines(2);
    expect(welcome).toMatch(/^\* Welcome to echoplex chat, guest-1! You are in #lobby\. Type \/help/);
    expect(motd).toBe("* be nice");
    client.destroy();
    const a = await user(port, "alice");
    a.say("hi");
    await a.until("<alice> hi");
    a.say("/me waves");
    await a.until("* alice waves");
  });

  it("answers /help, /rooms, /who (with idle times), and one-line errors for unknown commands and bad arguments", async () => {
    const port = await chat(...NO_FLOOD);
    const a = await user(port, "alice");
    const b = await user(port, "bob");
    await a.sync();
    a.say("/help");
    const help = await a.until(/^\* anything else is said/);
    expect(help.before.join("\n")).toMatch(
      /\/nick NAME[\s\S]*\/join #room[\s\S]*\/msg NAME text[\s\S]*\/quit/,
    );
    b.say("/join #dev");
    await b.until("* bob joined #dev");
    a.say("/rooms");
    await a.until("* rooms: #dev (1), #lobby (1)");
    b.say("/who");
    await b.until(/^\* 1 in #dev: bob \(idle \d+s\)$/);
    for (const [line, error] of [
      ["/frobnicate", "! unknown command /frobnicate (try /help)"],
      ["/nick", "! usage: /nick NAME"],
      ["/msg bob", "! usage: /msg NAME text"],
      ["/join", "! usage: /join #room"],
      ["/join #no way", "! usage: /join #room"],
      ["/join #bad!", '! invalid room "#bad!": use # and 1-32 letters, digits, _ or -'],
      ["/me", "! usage: /me action"],
      ["/pass x", "! already authenticated"],
    ] as const) {
      a.say(line);
      expect((await a.until(/^! /)).line).toBe(error);
    }
    a.say("//not a command");
    await b.sync();
    b.say("/join #lobby");
    await b.until("* bob joined #lobby");
    a.say("//still not a command");
    await b.until("<alice> /still not a command");
  });

  it("refuses messages over --max-message without disconnecting", async () => {
    const port = await chat(...NO_FLOOD, "--max-message", "10");
    const a = await user(port, "alice");
    const b = await user(port, "bob");
    a.say("x".repeat(11));
    expect((await a.until(/^! /)).line).toBe("! message too long (11 bytes, limit 10): not sent");
    a.say("x".repeat(10));
    expect(await b.until(/^</)).toEqual({ before: [], line: `<alice> ${"x".repeat(10)}` });
  });

  it("/quit says goodbye, closes, and tells the room the reason", async () => {
    const port = await chat(...NO_FLOOD);
    const a = await user(port, "alice");
    const b = await user(port, "bob");
    b.say("/quit off to lunch");
    expect(await b.client.readToEnd()).toBe("* bye\n");
    await a.until("* bob left #lobby (quit: off to lunch)");
  });
});

describe("chat: who receives what", () => {
  it("join, leave and rename notices reach exactly the members of the room", async () => {
    const port = await chat(...NO_FLOOD);
    const a1 = await user(port, "a1");
    const a2 = await user(port, "a2");
    const b1 = await user(port, "b1");
    b1.say("/join #b");
    await b1.until("* b1 joined #b");
    const a3 = await user(port, "a3");
    for (const u of [a1, a2, a3, b1]) await u.sync();

    // A rename in #lobby: the three in #lobby see it (the renamer too), b1 in #b does not.
    a1.say("/nick alpha");
    for (const u of [a1, a2, a3])
      expect(await u.until(/^\* /)).toEqual({ before: [], line: "* a1 is now known as alpha" });
    expect(await b1.sync()).toEqual([]);

    // a2 moves to #b: #lobby sees it leave, #b sees it join; nobody sees anything else.
    a2.say("/join #b");
    expect((await a2.until(/^\* a2 joined/)).before).toEqual([]);
    expect(await b1.until(/^\* /)).toEqual({ before: [], line: "* a2 joined #b" });
    for (const u of [a1, a3]) {
      expect(await u.until(/^\* /)).toEqual({ before: [], line: "* a2 left #lobby (moved to #b)" });
    }

    // b1 disconnects: only a2 (in #b) hears of it.
    b1.close();
    expect(await a2.until(/^\* /)).toEqual({ before: [], line: "* b1 left #b (connection closed)" });
    for (const u of [a1, a3]) expect(await u.sync()).toEqual([]);

    // Messages stay in their room.
    a2.say("only for #b");
    a1.say("only for #lobby");
    expect(await a3.until(/^</)).toEqual({ before: [], line: "<alpha> only for #lobby" });
    expect(await a2.sync()).toEqual([]);
  });

  it("private messages reach only their target, in any room", async () => {
    const port = await chat(...NO_FLOOD);
    const alice = await user(port, "alice");
    const bob = await user(port, "bob");
    const carol = await user(port, "carol");
    carol.say("/join #elsewhere");
    await carol.until("* carol joined #elsewhere");
    for (const u of [alice, bob]) await u.sync();

    alice.say("/msg Carol psst, secret");
    expect((await alice.until(/^-> /)).line).toBe("-> *carol* psst, secret");
    expect(await carol.until(/^\*alice\*/)).toEqual({ before: [], line: "*alice* psst, secret" });
    expect(await bob.sync()).toEqual([]);

    alice.say("/msg nobody hello");
    expect((await alice.until(/^! /)).line).toBe("! no such user: nobody");
  });

  it("refuses nick collisions (case-insensitively) and invalid nicks", async () => {
    const port = await chat(...NO_FLOOD);
    const alice = await user(port, "alice");
    const other = await user(port);
    await alice.sync();
    for (const [nick, error] of [
      ["ALICE", "! nick ALICE is already taken"],
      ["alice", "! nick alice is already taken"],
      ["a".repeat(33), `! invalid nick "${"a".repeat(33)}": use 1-32 letters, digits, _ or -`],
      ["bad.nick", '! invalid nick "bad.nick": use 1-32 letters, digits, _ or -'],
      ["émile", '! invalid nick "émile": use 1-32 letters, digits, _ or -'],
    ] as const) {
      other.say(`/nick ${nick}`);
      expect((await other.until(/^[!*] /)).line).toBe(error);
    }
    expect(await alice.sync()).toEqual([]); // no rename happened
    const long = "b".repeat(32);
    other.say(`/nick ${long}`);
    await alice.until(`* ${other.nick} is now known as ${long}`);
    // A nick is free again once its holder renames or leaves.
    alice.say("/nick Alice2");
    await alice.until("* alice is now known as Alice2");
    other.say("/nick alice");
    await alice.until(`* ${long} is now known as alice`);
  });

  it("replays the last --history messages to someone who joins", async () => {
    const port = await chat(...NO_FLOOD, "--history", "5");
    const a = await user(port, "alice");
    for (let i = 1; i <= 7; i++) a.say(`message ${i}`);
    a.say("/me is done");
    await a.sync();
    const b = await user(port);
    b.close();
    const client = await connectClient(port);
    const lines = await client.readLines(9);
    client.destroy();
    expect(lines.slice(1)).toEqual([
      "* last 5 messages in #lobby:",
      "<alice> message 4",
      "<alice> message 5",
      "<alice> message 6",
      "<alice> message 7",
      "* alice is done",
      "* end of history",
      expect.stringMatching(/^\* guest-\d+ joined #lobby$/),
    ]);
  });

  it("strips control characters and escape sequences from what users send", async () => {
    const port = await chat(...NO_FLOOD);
    const a = await user(port, "alice");
    const b = await user(port, "bob");
    await a.sync();
    // clear screen, set title (OSC, BEL and ST terminated), colours, a DCS, C1 CSI, NUL, backspace, bidi override
    b.client.write(
      "\x1b[2J\x1b[H\x1b]0;owned\x07he\x1b[31mll\x1b[0mo\x1b]8;;http://x\x1b\\ \x1bPq#0\x1b\\wor\u009b1Ald\x00\x08\u202e!\n",
    );
    expect((await a.until(/^</)).line).toBe("<bob> hello world!");
    // Nothing is left to say: an all-escapes line sends nothing.
    b.client.write("\x1b[2J\x1b[3J\n");
    b.say("/me \x1b[5mblinks\x1b[0m");
    expect(await a.until(/^\*/)).toEqual({ before: [], line: "* bob blinks" });
    // The raw bytes on the wire contain no ESC at all.
    expect(a.client.received.includes(0x1b)).toBe(false);
  });
});

describe("chat: password gate", () => {
  it("admits a user only after /pass with the right secret", async () => {
    const port = await chat("--password", "s3cret");
    const c = await connectClient(port);
    expect(await c.readLine()).toBe(
      "* Welcome to echoplex chat. This server needs a password: send /pass SECRET",
    );
    c.send("hello?");
    expect(await c.readLine()).toBe("! send /pass SECRET first (2 tries left)");
    c.send("/pass s3cret");
    expect(await c.readLine()).toBe("* password accepted");
    expect(await c.readLine()).toMatch(/^\* Welcome to echoplex chat, guest-1! You are in #lobby/);
    expect(await c.readLine()).toBe("* guest-1 joined #lobby");
    c.destroy();
  });

  it("disconnects after 3 wrong tries, and unauthenticated users hear nothing from the room", async () => {
    const port = await chat("--password", "s3cret");
    const member = await connectClient(port);
    member.send("/pass s3cret");
    await member.readLines(4);
    const intruder = await connectClient(port);
    await intruder.readLine();
    member.send("secret talk");
    await sleep(100);
    intruder.send("/pass a");
    intruder.send("/pass b");
    intruder.send("/pass c");
    expect(await intruder.readToEnd()).toBe(
      "! wrong password (2 tries left)\n! wrong password (1 try left)\n! wrong password; too many tries, disconnecting\n",
    );
    member.destroy();
  });

  it("disconnects a user who does not send the password within --pass-timeout", async () => {
    const port = await chat("--password", "s3cret", "--pass-timeout", "300ms");
    const c = await connectClient(port);
    await c.readLine();
    expect(await c.readToEnd(10_000)).toBe("! no password within 300ms, disconnecting\n");
    expect(cli!.stderr()).toMatch(/password: timed out/);
  });
});

describe("chat: flood control", () => {
  it("drops a flooder's excess with one warning, then disconnects it, while others keep talking", async () => {
    const port = await chat("--flood-rate", "5", "--flood-burst", "10", "--flood-disconnect", "20");
    const observer = await user(port, "observer");
    const talker = await user(port, "talker");
    const flooder = await user(port, "flooder");
    await observer.sync();

    await sleep(500); // the bucket refills (its /nick took a token)
    // A burst of 20 at once: the first 10 pass, one warning, the other 10 are dropped.
    flooder.client.write(Array.from({ length: 20 }, (_, i) => `flood ${i}\n`).join(""));
    expect((await flooder.until(/^! /)).line).toBe(
      "! flood control: slow down (limit 5 messages/s, burst 10); messages dropped",
    );
    const seen = await observer.until("<flooder> flood 9");
    expect(seen.before).toEqual(Array.from({ length: 9 }, (_, i) => `<flooder> flood ${i}`));

    // The talker, at a polite pace, is not affected.
    talker.say("still here");
    expect(await observer.until(/^</)).toEqual({ before: [], line: "<talker> still here" });

    // Keep flooding: more than 20 drops (decaying at 1/s) means a disconnect.
    for (let i = 0; i < 40 && !flooder.client.closed; i++) {
      flooder.client.write("more\nmore\nmore\n");
      await sleep(20);
    }
    expect(await flooder.client.readToEnd()).toMatch(/! flooding: disconnecting\n$/);
    const left = await observer.until(/^\* flooder left/);
    expect(left.line).toBe("* flooder left #lobby (flooding)");
    expect(left.before.every((l) => l === "<flooder> more")).toBe(true);
    talker.say("and still here");
    await observer.until("<talker> and still here");
    expect(cli!.stderr()).toMatch(/flooding: disconnecting/);
  });
});

describe("chat: other framings and defaults", () => {
  it("speaks 4-byte length-prefixed frames with --framing length", async () => {
    const port = await chat("--framing", "length");
    const c = await connectClient(port);
    const frame = (s: string) => {
      const body = Buffer.from(s);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      return Buffer.concat([head, body]);
    };
    const frames = (data: Buffer): string[] => {
      const out: string[] = [];
      for (let at = 0; at + 4 <= data.length; ) {
        const n = data.readUInt32BE(at);
        if (at + 4 + n > data.length) break;
        out.push(data.subarray(at + 4, at + 4 + n).toString());
        at += 4 + n;
      }
      return out;
    };
    await c.waitFor((d) => frames(d).length >= 2, 10_000, "welcome frames");
    expect(frames(c.received)[1]).toBe("* guest-1 joined #lobby");
    c.write(frame("/nick framed"));
    await c.waitFor((d) => frames(d).includes("* guest-1 is now known as framed"), 10_000, "rename frame");
    c.destroy();
  });

  it("answers telnet users (CRLF) in CRLF and nc users (LF) in LF, from the same broadcast", async () => {
    const port = await chat(...NO_FLOOD);
    const nc = await user(port, "nc");
    const telnet = await user(port, "telnet");
    await nc.sync();
    telnet.client.write("hello from telnet\r\n");
    await nc.client.waitFor((d) => d.includes("<telnet> hello from telnet\n"), 10_000, "LF line");
    nc.say("hello from nc");
    await telnet.client.waitFor((d) => d.includes("<nc> hello from nc\r\n"), 10_000, "CRLF line");
  });

  it("documents its own defaults in --help (1 MiB max pending, 1 h idle timeout)", async () => {
    const { runCli } = await import("../../helpers/cli.js");
    const help = await runCli(["chat", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--max-pending <size>[\s\S]*default: 1m/);
    expect(help.stdout).toMatch(/--idle-timeout <duration>[\s\S]*default: 3600s/);
    expect(help.stdout).toMatch(/--flood-rate <n>[\s\S]*default: 5/);
  });
});
