// The IRC door's pure parts: parsing a client's line, and the lines chat events become.
import { describe, expect, it } from "vitest";
import { parseIrcLine } from "../../../src/services/chat/irc/message.js";
import { ircShared, renderIrc, renderIrcHistory } from "../../../src/services/chat/irc/render.js";

const alice = { id: "5f3a9c1e:i7", nick: "alice" };

describe("parseIrcLine", () => {
  it("reads the command (upper-cased), middle parameters and the trailing one; skips tags and a prefix", () => {
    expect(parseIrcLine("privmsg #lobby :hello  there :)")).toEqual({
      command: "PRIVMSG",
      params: ["#lobby", "hello  there :)"],
    });
    expect(parseIrcLine("@time=x;+typing=1 :alice!a@h JOIN #a,#b key")).toEqual({
      command: "JOIN",
      params: ["#a,#b", "key"],
    });
    expect(parseIrcLine("USER bob 0 * :Bob Smith")).toEqual({
      command: "USER",
      params: ["bob", "0", "*", "Bob Smith"],
    });
    expect(parseIrcLine("PRIVMSG #x :")).toEqual({ command: "PRIVMSG", params: ["#x", ""] });
    expect(parseIrcLine("QUIT")).toEqual({ command: "QUIT", params: [] });
    expect(parseIrcLine("")).toBeUndefined();
    expect(parseIrcLine(":only.a.prefix")).toBeUndefined();
  });
});

describe("renderIrc", () => {
  it("shows any chat user as nick!user@host, a move or a PART as PART, any other leave as QUIT", () => {
    expect(renderIrc({ kind: "say", room: "#lobby", from: alice, text: "hi", ts: 0 })).toBe(
      ":alice!ui7@5f3a9c1e.echoplex PRIVMSG #lobby :hi",
    );
    expect(renderIrc({ kind: "action", room: "#lobby", from: alice, text: "waves", ts: 0 })).toBe(
      ":alice!ui7@5f3a9c1e.echoplex PRIVMSG #lobby :\x01ACTION waves\x01",
    );
    expect(
      renderIrc({ kind: "rename", room: "#lobby", user: { ...alice, nick: "alicia" }, from: "alice" }),
    ).toBe(":alice!ui7@5f3a9c1e.echoplex NICK :alicia");
    expect(renderIrc({ kind: "leave", room: "#a", user: alice, reason: "moved to #b" })).toBe(
      ":alice!ui7@5f3a9c1e.echoplex PART #a :moved to #b",
    );
    expect(renderIrc({ kind: "leave", room: "#a", user: alice, reason: "parted" })).toBe(
      ":alice!ui7@5f3a9c1e.echoplex PART #a",
    );
    expect(renderIrc({ kind: "leave", room: "#a", user: alice, reason: "connection lost" })).toBe(
      ":alice!ui7@5f3a9c1e.echoplex QUIT :connection lost",
    );
    expect(renderIrc({ kind: "notice", room: "#a", text: "redis is back" })).toBe(
      ":echoplex NOTICE #a :redis is back",
    );
  });

  it("keys a nick change and a quit (shown once per user), not a PART or a message", () => {
    const rename = { kind: "rename", room: "#a", user: alice, from: "al" } as const;
    expect(ircShared(rename)).toBe(ircShared({ ...rename, room: "#b" }));
    expect(ircShared({ kind: "leave", room: "#a", user: alice, reason: "quit" })).toBeDefined();
    expect(ircShared({ kind: "leave", room: "#a", user: alice, reason: "parted: bye" })).toBeUndefined();
    expect(ircShared({ kind: "say", room: "#a", from: alice, text: "x", ts: 0 })).toBeUndefined();
  });

  it("puts the message's time in a history line when server-time was negotiated", () => {
    const event = {
      kind: "say",
      room: "#a",
      from: alice,
      text: "old",
      ts: Date.UTC(2026, 11, 4, 22, 0, 0),
    } as const;
    expect(renderIrcHistory(event, true)).toBe(
      "@time=2026-12-04T22:00:00.000Z :alice!ui7@5f3a9c1e.echoplex PRIVMSG #a :old",
    );
    expect(renderIrcHistory(event, false)).toBe(":alice!ui7@5f3a9c1e.echoplex PRIVMSG #a :old");
  });
});
