// What users ask of the shared state: the rooms, who is in a room, a room's history.
// Members whose node stopped refreshing its heartbeat are not listed, even before a
// survivor removes them.
import type { Redis } from "ioredis";
import type { HistoryEvent } from "./events.js";
import { nickKey } from "./names.js";
import { execChecked, type RedisNode } from "./redis-node.js";
import { decodeHistory, parseMember } from "./redis-wire.js";
import type { MemberListing, RoomListing } from "./transport.js";

/** Members ([nick, last activity]) of the given rooms whose node is alive (this node, or a fresh heartbeat). */
async function liveMembers(
  node: RedisNode,
  cmd: Redis,
  rooms: string[],
): Promise<Array<Array<[string, number]>>> {
  const { keys, id: self } = node;
  const p = cmd.pipeline();
  for (const room of rooms) p.hgetall(keys.room(room));
  const hashes = (await execChecked(p)).map(([, value]) => value as Record<string, string>);
  const parsed = hashes.map((h) => Object.values(h).flatMap((v) => parseMember(v) ?? []));
  const nodes = [...new Set(parsed.flat().map((m) => m.node))].filter((n) => n !== self);
  const beats = nodes.length === 0 ? [] : await cmd.mget(nodes.map((n) => keys.node(n)));
  const alive = new Set([self, ...nodes.filter((_, i) => beats[i] !== null)]);
  return parsed.map((members) =>
    members.filter((m) => alive.has(m.node)).map((m): [string, number] => [m.nick, m.lastActive]),
  );
}

/** Rooms with live members, by name. */
export async function listRooms(node: RedisNode, cmd: Redis): Promise<RoomListing[]> {
  const names = (await cmd.smembers(node.keys.rooms)).sort();
  const members = await liveMembers(node, cmd, names);
  return names.map((room, i) => ({ room, members: members[i]!.length })).filter((r) => r.members > 0);
}

/** Live members of `room` with idle times, by nick. */
export async function listMembers(node: RedisNode, cmd: Redis, room: string): Promise<MemberListing[]> {
  const [members] = await liveMembers(node, cmd, [room]);
  const now = Date.now();
  return members!
    .map(([nick, lastActive]) => ({ nick, idleMs: Math.max(0, now - lastActive) }))
    .sort((a, b) => (nickKey(a.nick) < nickKey(b.nick) ? -1 : 1));
}

/** The last `size` messages of `room`, oldest first (entries that do not decode are skipped). */
export async function readHistory(
  node: RedisNode,
  cmd: Redis,
  room: string,
  size: number,
): Promise<HistoryEvent[]> {
  const values = await cmd.lrange(node.keys.history(room), 0, size - 1);
  return values.reverse().flatMap((v) => decodeHistory(v) ?? []);
}
