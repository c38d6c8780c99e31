import { describe, expect, it } from "vitest";
import { parseCommand } from "../../../src/services/chat/commands.js";
import { nickError, normaliseRoom } from "../../../src/services/chat/names.js";

describe("parseCommand", () => {
  it.each([
    ["hello", { name: "say", text: "hello" }],
    ["//slash", { name: "say", text: "/slash" }],
    ["/NICK bob", { name: "nick", nick: "bob" }],
    ["/join #dev", { name: "join", room: "#dev" }],
    ["/msg bob  hi there ", { name: "msg", to: "bob", text: "hi there" }],
    ["/me waves", { name: "me", text: "waves" }],
    ["/quit", { name: "quit", reason: "" }],
    ["/quit gone fishing", { name: "quit", reason: "gone fishing" }],
    ["/who", { name: "who" }],
    ["/rooms", { name: "rooms" }],
    ["/pass s3cret", { name: "pass", secret: "s3cret" }],
    ["/nick", { name: "error", message: "usage: /nick NAME" }],
    ["/msg bob", { name: "error", message: "usage: /msg NAME text" }],
    ["/bogus", { name: "error", message: "unknown command /bogus (try /help)" }],
    ["/history", { name: "history", count: undefined }],
    ["/history 7", { name: "history", count: 7 }],
    ["/history Off", { name: "replay", onJoin: false }],
    ["/history on", { name: "replay", onJoin: true }],
    ["/history 0", { name: "error", message: "usage: /history [N], /history off, /history on" }],
    ["/history -2", { name: "error", message: "usage: /history [N], /history off, /history on" }],
  ])("%j", (line, command) => {
    expect(parseCommand(line)).toEqual(command);
  });
});

describe("names", () => {
  it("accepts 1-32 letters, digits, _ and - as nicks", () => {
    expect(nickError("a")).toBeUndefined();
    expect(nickError("Zed_-9".padEnd(32, "x"))).toBeUndefined();
    expect(nickError("x".repeat(33))).toMatch(/invalid nick/);
    expect(nickError("")).toMatch(/invalid nick/);
    expect(nickError("a b")).toMatch(/invalid nick/);
  });

  it("normalises rooms to lower case with #", () => {
    expect(normaliseRoom("Dev")).toBe("#dev");
    expect(normaliseRoom("#dev")).toBe("#dev");
    expect(normaliseRoom("#")).toBeUndefined();
    expect(normaliseRoom("#a!")).toBeUndefined();
  });
});
