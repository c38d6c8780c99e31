// The chat's IRC door against the real CLI, with irc-framework (an IRC library nobody in
// the project wrote) and nc: registration and CAP negotiation, ISUPPORT and MOTD, the
// channel commands and their numerics, the error numerics, nc and IRC users talking,
// a nick change and a quit shown once per user, history on JOIN with server-time and
// its opt-outs, the password, the 512-byte limit, PING without PONG, and tls:// and unix: doors.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "irc-framework";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { ircUser, rawIrc, startChatWithIrc } from "../../helpers/irc-user.js";
import { ncUser } from "../../helpers/nc-user.js";

const WAIT = 20_000;
const clis: RunningCli[] = [];
const procs: ChildProcess[] = [];
const clients: Client[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.quit();
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await Promise.all(clis.splice(0).map((c) => c.stop("SIGKILL")));
});

const chatWithIrc = (args: string[]) => startChatWithIrc(args, clis);
const nc = (port: number) => ncUser(port, procs, WAIT);
const numeric = (code: string, rest = "") => new RegExp(`^:echoplex ${code} ${rest}`);

describe("the chat's IRC door", () => {
  it("registers an irc-framework client: CAP LS/REQ/END with server-time and echo-message, 001-005 with ISUPPORT, the MOTD", async () => {
    const { irc } = await chatWithIrc(["--motd", "be nice", "--log-level", "warn"]);
    const alice = ircUser(irc, "alice", clients, { enable_echomessage: true });
    await alice.waitFor(numeric("376"));
    expect(alice.matching(/ CAP \* LS /)[0]).toMatch(/:.*server-time.*echo-message/);
    expect(alice.matching(/ CAP \S+ ACK /)[0]).toMatch(/server-time/);
    expect(alice.matching(/ CAP \S+ ACK /).join(" ")).toMatch(/echo-message/);
    for (const code of ["001", "002", "003", "004", "005", "375", "372", "376"]) {
      expect(alice.matching(numeric(code, "alice"))).toHaveLength(1);
    }
    expect(alice.matching(numeric("001"))[0]).toMatch(/Welcome to echoplex chat, alice!\S+@\S+$/);
    const isupport = alice.matching(numeric("005"))[0]!;
    for (const token of ["CHANTYPES=#", "NICKLEN=32", "CHANNELLEN=33", "CASEMAPPING=ascii"]) {
      expect(isupport).toContain(` ${token} `);
    }
    expect(alice.matching(numeric("372"))[0]).toMatch(/:- be nice$/);
    // The library understood them.
    expect(alice.client.network.options.CASEMAPPING).toBe("ascii");
    expect(alice.client.network.cap.enabled).toEqual(expect.arrayContaining(["server-time", "echo-message"]));
  });

  it("puts IRC users in several channels with an nc user: JOIN, NAMES, WHO, LIST, TOPIC, messages both ways, private messages, a nick change and a quit shown once", async () => {
    const { tcp, irc } = await chatWithIrc(["--log-level", "warn"]);
    const bob = nc(tcp);
    bob.type("/nick bob");
    await bob.waitFor("is now known as bob");
    const alice = ircUser(irc, "alice", clients, { enable_echomessage: true });
    const carol = ircUser(irc, "carol", clients);
    await alice.waitFor(numeric("001"));
    await carol.waitFor(numeric("001"));
    alice.client.raw("JOIN", "#lobby,#Dev");
    await alice.waitFor(/^:alice!\S+ JOIN #lobby$/);
    await alice.waitFor(/^:alice!\S+ JOIN #dev$/);
    const names = await alice.waitFor(numeric("353", "alice = #lobby"));
    expect(names.split(":").at(-1)!.split(" ").sort()).toEqual(["alice", "bob"]);
    await alice.waitFor(numeric("366", "alice #lobby"));
    await bob.waitFor("* alice joined #lobby");
    carol.client.raw("JOIN", "#lobby,#dev");
    await alice.waitFor(/^:carol!\S+ JOIN #lobby$/);
    await alice.waitFor(/^:carol!\S+ JOIN #dev$/);

    alice.client.raw("WHO", "#lobby");
    await alice.waitFor(numeric("315", "alice #lobby"));
    expect(
      alice
        .matching(numeric("352", "alice #lobby"))
        .map((l) => l.split(" ")[7])
        .sort(),
    ).toEqual(["alice", "bob", "carol"]);
    alice.client.raw("LIST");
    await alice.waitFor(numeric("323"));
    expect(alice.matching(numeric("322"))).toEqual([
      ":echoplex 322 alice #dev 2 :",
      ":echoplex 322 alice #lobby 3 :",
    ]);
    alice.client.raw("TOPIC", "#lobby");
    await alice.waitFor(numeric("331", "alice #lobby :No topic is set"));

    // nc → IRC, IRC → nc, echo-message back to its sender only.
    bob.type("hello from nc");
    const said = await carol.waitFor(/PRIVMSG #lobby :hello from nc$/);
    expect(said).toMatch(/^:bob!\S+@\S+ PRIVMSG/);
    alice.client.say("#lobby", "hello from irc");
    await bob.waitFor("<alice> hello from irc");
    await carol.waitFor(/^:alice!\S+ PRIVMSG #lobby :hello from irc$/);
    await alice.waitFor(/^:alice!\S+ PRIVMSG #lobby :hello from irc$/);
    alice.client.raw("PRIVMSG", "#lobby", "\x01ACTION waves\x01");
    await bob.waitFor("* alice waves");
    alice.client.say("bob", "psst");
    await bob.waitFor("*alice* psst");
    bob.type("/msg carol hi carol");
    await carol.waitFor(/^:bob!\S+ PRIVMSG carol :hi carol$/);

    // alice shares two channels with carol: carol sees one NICK, one PART, one QUIT.
    const mark = carol.lines.length;
    alice.client.changeNick("alicia");
    await alice.waitFor(/^:alice!\S+ NICK :alicia$/);
    await bob.waitFor("* alice is now known as alicia");
    alice.client.raw("PART", "#dev", "off to lunch");
    await carol.waitFor(/^:alicia!\S+ PART #dev :off to lunch$/);
    alice.client.quit("bye now");
    await carol.waitFor(/^:alicia!\S+ QUIT :quit: bye now$/);
    await bob.waitFor("* alicia left #lobby (quit: bye now)");
    const after = carol.lines.slice(mark);
    expect(after.filter((l) => / NICK /.test(l))).toHaveLength(1);
    expect(after.filter((l) => / QUIT /.test(l))).toHaveLength(1);
    expect(bob.output().split("is now known as alicia")).toHaveLength(2);
  });

  it("answers errors with their numerics: 401, 403, 404, 421, 432, 433, 461, 417, and 464 then ERROR", async () => {
    const { tcp, irc } = await chatWithIrc(["--log-level", "warn"]);
    const bob = nc(tcp);
    bob.type("/nick bob");
    await bob.waitFor("is now known as bob");
    const dave = rawIrc(irc, sockets);
    dave.send("NICK bob");
    await dave.waitFor(numeric("433", "\\* bob :Nickname is already in use"));
    dave.send("NICK bad!nick");
    await dave.waitFor(numeric("432", "\\* bad!nick "));
    dave.send("JOIN #lobby");
    await dave.waitFor(numeric("451"));
    dave.send("NICK dave");
    dave.send("USER dave 0 * :Dave");
    await dave.waitFor(numeric("001", "dave"));
    const cases: Array<[string, RegExp]> = [
      ["PRIVMSG nobody :hi", numeric("401", "dave nobody ")],
      ["JOIN lobby", numeric("403", "dave lobby ")],
      ["PRIVMSG #lobby :not joined", numeric("404", "dave #lobby ")],
      ["FROB", numeric("421", "dave FROB ")],
      ["JOIN", numeric("461", "dave JOIN ")],
      [`PRIVMSG #lobby :${"x".repeat(600)}`, numeric("417", "dave :Input line was too long")],
      ["NICK bob", numeric("433", "dave bob ")],
      ["PART #nowhere", numeric("442", "dave #nowhere ")],
    ];
    for (const [line, reply] of cases) {
      dave.send(line);
      await dave.waitFor(reply);
    }
    // Still connected and registered after every error.
    dave.send("PING :still-here");
    await dave.waitFor(/^:echoplex PONG echoplex :still-here$/);
    expect(bob.output()).not.toContain("not joined");

    const locked = await chatWithIrc(["--password", "s3cret", "--log-level", "warn"]);
    const wrong = rawIrc(locked.irc, sockets);
    wrong.send("PASS nope");
    wrong.send("NICK eve");
    wrong.send("USER eve 0 * :Eve");
    await wrong.waitFor(numeric("464", "eve :Password incorrect"));
    await wrong.waitFor(/^ERROR :Closing link: bad password$/);
    await wrong.closed;
    expect(wrong.matching(numeric("001"))).toEqual([]);
    const right = ircUser(locked.irc, "frank", clients, { password: "s3cret" });
    await right.waitFor(numeric("001", "frank"));
  });

  it("replays a channel's last messages on JOIN, with @time under server-time; a bot opts out with CAP echoplex/no-history or MODE +B", async () => {
    const { tcp, irc } = await chatWithIrc(["--history", "2", "--log-level", "warn"]);
    const bob = nc(tcp);
    bob.type("/nick bob");
    for (const n of [1, 2, 3]) bob.type(`message ${n}`);
    await bob.waitFor("is now known as bob");
    // The nc user's third line is kept once the history shows it to a second nc user.
    const probe = nc(tcp);
    await probe.waitFor("<bob> message 3");

    const alice = ircUser(irc, "alice", clients);
    await alice.waitFor(numeric("001"));
    const messages: Array<{ message: string; time?: number }> = [];
    alice.client.on("privmsg", (e: { message: string; time?: number }) => messages.push(e));
    alice.client.join("#lobby");
    await alice.waitFor(/PRIVMSG #lobby :message 3$/);
    expect(alice.matching(/PRIVMSG #lobby :message/)).toHaveLength(2);
    expect(alice.matching(/PRIVMSG #lobby :message 2$/)[0]).toMatch(/^@time=\d{4}-\d\d-\d\dT\S+Z :bob!/);
    await new Promise((r) => setTimeout(r, 100));
    expect(messages.map((m) => m.message)).toEqual(["message 2", "message 3"]);
    // irc-framework read the server-time tag.
    expect(messages.every((m) => typeof m.time === "number" && Math.abs(Date.now() - m.time) < 60_000)).toBe(
      true,
    );

    const bot = ircUser(irc, "bot1", clients, { caps: ["echoplex/no-history"] });
    await bot.waitFor(numeric("001"));
    bot.client.join("#lobby");
    await bot.waitFor(numeric("366", "bot1 #lobby"));
    const moder = rawIrc(irc, sockets);
    moder.send("NICK bot2");
    moder.send("USER bot2 0 * :bot");
    await moder.waitFor(numeric("001"));
    moder.send("MODE bot2 +B");
    await moder.waitFor(/^:bot2 MODE bot2 :\+B$/);
    moder.send("JOIN #lobby");
    await moder.waitFor(numeric("366", "bot2 #lobby"));
    bob.type("live after the bots joined");
    await bot.waitFor(/PRIVMSG #lobby :live after the bots joined$/);
    await moder.waitFor(/PRIVMSG #lobby :live after the bots joined$/);
    expect(bot.matching(/PRIVMSG #lobby :message/)).toEqual([]);
    expect(moder.matching(/PRIVMSG #lobby :message/)).toEqual([]);
  });

  it("PINGs a silent client and disconnects it without PONG; a client that answers stays", async () => {
    const { tcp, irc } = await chatWithIrc(["--irc-ping-timeout", "300ms", "--log-level", "warn"]);
    const bob = nc(tcp);
    const mute = rawIrc(irc, sockets);
    mute.send("NICK mute");
    mute.send("USER mute 0 * :mute");
    mute.send("JOIN #lobby");
    await mute.waitFor(numeric("366", "mute #lobby"));
    const lively = ircUser(irc, "lively", clients);
    await lively.waitFor(numeric("001"));
    await mute.waitFor(/^PING :echoplex$/);
    await mute.waitFor(/^ERROR :Closing link: ping timeout$/);
    await mute.closed;
    await bob.waitFor("* mute left #lobby (ping timeout)");
    // irc-framework answers the server's PINGs: still registered several timeouts later.
    await lively.waitFor(/^PING :echoplex$/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(lively.client.connected).toBe(true);
    lively.client.raw("PING", "ok");
    await lively.waitFor(/PONG echoplex :ok$/);
  });

  it("serves IRC on a tls:// door (openssl s_client) and a unix: door (a Unix socket) too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "echoplex-irc-"));
    const path = join(dir, "irc.sock");
    try {
      const cli = await startCli(
        [
          "chat",
          "127.0.0.1:0",
          "--irc",
          `tls://127.0.0.1:0,unix:${path}`,
          "--tls-self-signed",
          "--log-level",
          "warn",
        ],
        { count: 1 },
      );
      clis.push(cli);
      const deadline = Date.now() + WAIT;
      while (!cli.stdout().includes(`irc+unix:${path}`) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const tlsPort = Number(cli.stdout().match(/listening on ircs:\/\/127\.0\.0\.1:(\d+) /)?.[1]);
      const openssl = spawn("openssl", ["s_client", "-quiet", "-connect", `127.0.0.1:${tlsPort}`], {
        stdio: ["pipe", "pipe", "ignore"],
      });
      procs.push(openssl);
      let tlsOut = "";
      openssl.stdout!.setEncoding("utf8").on("data", (d: string) => {
        tlsOut += d;
      });
      openssl.stdin!.on("error", () => {});
      openssl.stdin!.write("NICK secure\r\nUSER secure 0 * :s\r\n");
      const unix = connect({ path });
      sockets.push(unix);
      let unixOut = "";
      unix.setEncoding("utf8").on("data", (d: string) => {
        unixOut += d;
      });
      unix.write("NICK local\r\nUSER local 0 * :l\r\n");
      while (!(tlsOut.includes(" 001 secure ") && unixOut.includes(" 001 local ")) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      unix.write("WHOIS secure\r\n");
      while (!unixOut.includes(" 318 local ") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(tlsOut).toMatch(/^:echoplex 001 secure :Welcome to echoplex chat/m);
      expect(unixOut).toMatch(/^:echoplex 001 local :Welcome/m);
      expect(unixOut).toMatch(/^:echoplex 311 local secure /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
