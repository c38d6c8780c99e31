// The Redis wire format of the chat: events survive the trip, and what another
// publisher puts on the channel cannot make a node render garbage or throw.
import { describe, expect, it } from "vitest";
import type { ChatEvent } from "../../../src/services/chat/events.js";
import {
  decodeEnvelope,
  decodeHistory,
  encodeEnvelope,
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
    expect([keys.room("#dev"), keys.history("#dev"), keys.channel]).toEqual([
      "p:room:#dev",
      "p:history:#dev",
      "p:events",
    ]);
  });
});
