// The Redis wire format of the chat: events survive the trip, and what another
// publisher puts on the channel cannot make a node render garbage or throw.
import { describe, expect, it } from "vitest";
import { type ChatEvent, renderEvent } from "../../../src/services/chat/events.js";
import {
  decodeEnvelope,
  decodeHistory,
  encodeEnvelope,
  instanceOf,
  memberValue,
  nickFromValue,
  nickValue,
  parseMember,
  RedisKeys,
} from "../../../src/services/chat/redis-wire.js";

const alice = { id: "n1:1", nick: "Alice" };
const events: ChatEvent[] = [
  { kind: "say", room: "#dev", from: alice, text: "hi\ttab é", ts: 1 },
  { kind: "action", room: "#dev", from: alice, text: "waves", ts: 2 },
  { kind: "join", room: "#dev", user: alice },
  { kind: "leave", room: "#dev", user: alice, reason: "quit: bye" },
  { kind: "rename", room: "#dev", user: alice, from: "guest-1" },
  { kind: "private", to: "bob", from: alice, text: "psst\nsecond line" },
];

describe("chat Redis wire format", () => {
  it("round-trips every event kind through an envelope that names its node", () => {
    for (const event of events) {
      expect(decodeEnvelope(encodeEnvelope("node-a", event))).toEqual({ node: "node-a", event });
    }
  });

  it("rejects malformed or foreign messages instead of delivering them", () => {
    for (const message of [
      "",
      "no-newline",
      "\n{}",
      "node\nnot json",
      'node\n{"kind":"say","room":"#dev","text":"x","ts":1}', // no sender
      'node\n{"kind":"say","room":"#dev","from":{"id":1,"nick":"x"},"text":"x","ts":1}',
      'node\n{"kind":"private","to":"bob","from":{"id":"a","nick":"b"}}',
      'node\n{"kind":"notice","room":"#dev","text":"fake server notice"}', // notices never travel
      'node\n{"kind":"shutdown"}',
      'node\n{"kind":"join","room":"#dev","user":{"id":"a","nick":"b"},"late":"<evil>"}', // late must be ms
      'node\n{"kind":"join","room":"#dev","user":{"id":"a","nick":"b"},"late":-5}',
      "node\nnull",
    ]) {
      expect(decodeEnvelope(message)).toBeUndefined();
    }
    expect(decodeHistory('{"kind":"join","room":"#dev","user":{"id":"a","nick":"b"}}')).toBeUndefined();
    expect(decodeHistory(JSON.stringify(events[0]))).toEqual(events[0]);
  });

  it("stores nicks with their holder and members with node, activity and nick", () => {
    expect(nickFromValue(nickValue("n1:7", "Zoë-2", 1_700_000_000_000))).toBe("Zoë-2");
    expect(parseMember(memberValue("node-a", 1234, "bob"))).toEqual({
      node: "node-a",
      lastActive: 1234,
      nick: "bob",
    });
    expect(parseMember("garbage")).toBeUndefined();
    const keys = new RedisKeys("p:");
    expect(keys.nick("ALICE")).toBe(keys.nick("alice"));
    expect([
      keys.room("#dev"),
      keys.history("#dev"),
      keys.roomChannel("#dev"),
      keys.nodeChannel("ab12"),
    ]).toEqual(["p:room:#dev", "p:history:#dev", "p:events:#dev", "p:to:ab12"]);
  });

  it("carries a late event's delay, rendered as whole seconds before the line", () => {
    const late: ChatEvent = { ...events[0]!, late: 12_400 };
    expect(decodeEnvelope(encodeEnvelope("node-a", late))).toEqual({ node: "node-a", event: late });
    expect(renderEvent(late)).toBe("[late 12s] <Alice> hi\ttab é");
    expect(renderEvent({ kind: "join", room: "#dev", user: alice, late: 80 })).toBe(
      "[late 1s] * Alice joined #dev",
    );
    expect(renderEvent(events[0]!)).toBe("<Alice> hi\ttab é");
  });

  it("finds a user's chat instance in the user id (private messages go to its channel)", () => {
    expect([instanceOf("ab12cd34:17"), instanceOf("host:ab:3"), instanceOf("plain")]).toEqual([
      "ab12cd34",
      "host:ab",
      "plain",
    ]);
  });
});
