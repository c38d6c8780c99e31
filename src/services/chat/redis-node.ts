// What the parts of the Redis transport share about this node (its id, key names,
// logger, connections, local members) and the Redis operations more than one part
// runs: a pipeline that fails on any command's error, a member's removal, the walk
// over every room's member records.
import type { ChainableCommander, Redis } from "ioredis";
import type { Logger } from "../../core/logger.js";
import type { RedisLink } from "./redis-link.js";
import { LEAVE_ROOM, type MemberRecord, parseMember, type RedisKeys } from "./redis-wire.js";

/** A local user's room, as this node registers it in Redis. */
export interface LocalMember {
  room: string;
  nick: string;
  lastActive: number;
  /** The last activity written to Redis (written at most once a second: idle times are in seconds). */
  synced: number;
}

export interface RedisNode {
  /** This node's id in Redis (heartbeat key, member records, envelope origin). */
  readonly id: string;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  readonly link: RedisLink;
  /** Local users' rooms by user id, re-registered after an outage (Redis may have lost them). */
  readonly members: Map<string, LocalMember>;
}

export type PipelineResults = Array<[Error | null, unknown]>;

/** Runs the pipeline; rejects with the first command's error, if any. */
export async function execChecked(p: ChainableCommander): Promise<PipelineResults> {
  const results = (await p.exec()) ?? [];
  for (const [err] of results) if (err) throw err;
  return results;
}

/** Removes member `id` from `room` (the room and its history go with its last member); 1 if it was there. */
export function removeMember(cmd: Redis, keys: RedisKeys, room: string, id: string): Promise<unknown> {
  return cmd.eval(LEAVE_ROOM, 3, keys.room(room), keys.rooms, keys.history(room), id, room);
}

/** Calls `visit` for every member record of every room, one after the other. */
export async function forEachMember(
  cmd: Redis,
  keys: RedisKeys,
  visit: (room: string, id: string, member: MemberRecord) => Promise<void>,
): Promise<void> {
  for (const room of await cmd.smembers(keys.rooms)) {
    const entries = await cmd.hgetall(keys.room(room));
    for (const [id, value] of Object.entries(entries)) {
      const m = parseMember(value);
      if (m !== undefined) await visit(room, id, m);
    }
  }
}
