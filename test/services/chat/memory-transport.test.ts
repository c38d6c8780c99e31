import { describe, expect, it } from "vitest";
import type { ChatEvent } from "../../../src/services/chat/events.js";
import { MemoryTransport } from "../../../src/services/chat/memory-transport.js";

describe("MemoryTransport", () => {
  it("claims nicks case-insensitively and frees the old nick on rename and release", () => {
    const t = new MemoryTransport();
    expect(t.claimNick("1", "Alice")).toBe(true);
    expect(t.claimNick("2", "alice")).toBe(false);
    expect(t.findNick("ALICE")).toBe("Alice");
    expect(t.claimNick("1", "alice")).toBe(true); // the holder may change case
    expect(t.claimNick("1", "ally")).toBe(true);
    expect(t.findNick("alice")).toBeUndefined();
    expect(t.claimNick("2", "alice")).toBe(true);
    t.releaseNick("1");
    expect(t.findNick("ally")).toBeUndefined();
  });

  it("keeps the last N messages per room and forgets a room when it empties", () => {
    let now = 1000;
    const t = new MemoryTransport({ historySize: 2, now: () => now });
    const delivered: ChatEvent[] = [];
    t.subscribe((e) => delivered.push(e));
    const alice = { id: "1", nick: "alice" };
    t.enterRoom("#a", alice);
    t.enterRoom("#a", { id: "2", nick: "bob" });
    for (const text of ["one", "two", "three"])
      t.publish({ kind: "say", room: "#a", from: alice, text, ts: now });
    expect(t.history("#a").map((e) => e.text)).toEqual(["two", "three"]);
    expect(delivered).toHaveLength(3);
    now += 5000;
    expect(t.who("#a")).toEqual([
      { nick: "alice", idleMs: 5000 },
      { nick: "bob", idleMs: 5000 },
    ]);
    t.publish({ kind: "rename", room: "#a", user: { id: "2", nick: "bobby" }, from: "bob" });
    expect(t.who("#a").map((m) => m.nick)).toEqual(["alice", "bobby"]);
    expect(t.rooms()).toEqual([{ room: "#a", members: 2 }]);
    t.leaveRoom("#a", "1");
    t.leaveRoom("#a", "2");
    expect(t.rooms()).toEqual([]);
    expect(t.history("#a")).toEqual([]);
  });
});
