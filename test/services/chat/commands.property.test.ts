// Properties of chat command parsing: any line parses without throwing into one of the
// known commands; commands built from their parts parse back to those parts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../../src/services/chat/commands.js";

const NAMES = ["say", "nick", "join", "rooms", "who", "msg", "me", "quit", "help", "pass", "error"];
const WORDS = ["nick", "join", "rooms", "list", "who", "names", "msg", "me", "quit", "help", "pass", "x"];
/** Lines that look like commands: a slash, a known word in any case, spaces, anything. */
const commandish = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc
    .tuple(
      fc.constantFrom("/", "//", ""),
      fc
        .constantFrom(...WORDS)
        .chain((w) =>
          fc
            .array(fc.boolean(), { minLength: w.length, maxLength: w.length })
            .map((up) => [...w].map((c, i) => (up[i] ? c.toUpperCase() : c)).join("")),
        ),
      fc
        .array(fc.oneof(fc.constant(" "), fc.string({ maxLength: 6 })), { maxLength: 5 })
        .map((a) => a.join("")),
    )
    .map(([slash, word, rest]) => `${slash}${word}${rest}`),
);
/** A token without spaces (a nick, a room, a word). */
const token = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/\s/.test(s));
const textish = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s !== "");

describe("chat commands (properties)", () => {
  it("never throw; every line is a known command, and usage errors name the command", () => {
    fc.assert(
      fc.property(commandish, (line) => {
        const c = parseCommand(line);
        expect(NAMES).toContain(c.name);
        if (!line.startsWith("/")) expect(c).toEqual({ name: "say", text: line });
        if (line.startsWith("//")) expect(c).toEqual({ name: "say", text: line.slice(1) });
        if (c.name === "error") expect(c.message).toMatch(/^(usage: \/\w+|unknown command \/)/);
        if (c.name === "nick") expect(c.nick).not.toMatch(/ /);
        if (c.name === "join") expect(c.room).not.toMatch(/ /);
      }),
      { numRuns: 3000 },
    );
  });

  it("round trips: /nick, /join, /msg, /me, /quit, /pass in any case give back their parts", () => {
    const cased = (w: string) =>
      fc
        .array(fc.boolean(), { minLength: w.length, maxLength: w.length })
        .map((up) => [...w].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(""));
    fc.assert(
      fc.property(cased("nick"), token, (w, nick) => {
        expect(parseCommand(`/${w} ${nick}`)).toEqual({ name: "nick", nick });
      }),
    );
    fc.assert(
      fc.property(cased("join"), token, (w, room) => {
        expect(parseCommand(`/${w} #${room}`)).toEqual({ name: "join", room: `#${room}` });
      }),
    );
    fc.assert(
      fc.property(cased("msg"), token, textish, (w, to, text) => {
        expect(parseCommand(`/${w} ${to} ${text}`)).toEqual({ name: "msg", to, text });
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom("me", "quit", "pass"), textish, (w, text) => {
        const c = parseCommand(`/${w} ${text}`);
        const field = w === "me" ? "text" : w === "quit" ? "reason" : "secret";
        expect(c).toEqual({ name: w, [field]: text });
      }),
    );
  });
});
