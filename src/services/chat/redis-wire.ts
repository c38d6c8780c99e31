// How chat state is laid out in Redis and how events travel on its pub/sub
// channel: key names, the stored value formats, the Lua scripts that make nick
// claims atomic, and the (defensive) decoding of what other nodes publish. Pure:
// no connections here.
import type { ChatEvent, HistoryEvent, UserRef } from "./events.js";
import { nickKey } from "./names.js";

/** Key names under one prefix (several chats can share a Redis with different prefixes). */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  /** A room's events (sharded pub/sub where Redis has it): only nodes with members in the room listen. */
  roomChannel(room: string): string {
    return `${this.prefix}events:${room}`;
  }
  /** Private messages to the users of one chat instance (the part of a user id before its last `:`). */
  nodeChannel(instance: string): string {
    return `${this.prefix}to:${instance}`;
  }
  /** String `<holder id>\t<claimed at, ms>\n<nick as spelled>`, with an expiry refreshed by the holder's node. */
  nick(nick: string): string {
    return `${this.prefix}nick:${nickKey(nick)}`;
  }
  /** Pub/sub channel on which a node tells another that it took a nick over (`<holder id>\n<nick>`). */
  get nickChannel(): string {
    return `${this.prefix}nicks`;
  }
  get guests(): string {
    return `${this.prefix}guests`;
  }
  /** Set of room names that (may) have members. */
  get rooms(): string {
    return `${this.prefix}rooms`;
  }
  /** Hash: user id → member value (node, last activity, nick). */
  room(room: string): string {
    return `${this.prefix}room:${room}`;
  }
  /** List of JSON history events, newest first, capped. */
  history(room: string): string {
    return `${this.prefix}history:${room}`;
  }
  /** A node's heartbeat; when it expires the node is presumed dead and its members removed. */
  node(node: string): string {
    return `${this.prefix}node:${node}`;
  }
  /** Set of node ids that registered a heartbeat (so a survivor can clean up after a dead one). */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }
}

/**
 * Claims KEYS[1] for holder ARGV[1] (value ARGV[2], expiry ARGV[3] ms) unless another
 * holder has it; then releases KEYS[2] if this holder had it (a rename). Also used
 * with KEYS[1] == KEYS[2] to refresh a claim. Returns 1 when claimed, 0 when taken.
 * Contest mode (after a Redis outage, when two servers may have given the nick to two
 * users): with ARGV[4] (this claim's time, ms) the earlier claim wins, ties going to the
 * smaller holder id; a holder displaced so is told on channel ARGV[5] (`<id>\n<nick ARGV[6]>`),
 * and the answer is 2.
 */
export const CLAIM_NICK = `
local function holder(v) return string.match(v, "^[^\\t\\n]*") end
local cur = redis.call("GET", KEYS[1])
local displaced = nil
if cur and holder(cur) ~= ARGV[1] then
  if not ARGV[4] then return 0 end
  local at = string.match(cur, "^[^\\t\\n]*\\t(%d+)\\n")
  local since = at and tonumber(at) or 0
  local mine = tonumber(ARGV[4])
  if since < mine or (since == mine and holder(cur) < ARGV[1]) then return 0 end
  displaced = holder(cur)
end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
if KEYS[2] ~= KEYS[1] then
  local old = redis.call("GET", KEYS[2])
  if old and holder(old) == ARGV[1] then redis.call("DEL", KEYS[2]) end
end
if displaced then
  redis.call("PUBLISH", ARGV[5], displaced .. "\\n" .. ARGV[6])
  return 2
end
return 1
`;

/**
 * Publishes envelope ARGV[2] on the private channel (prefix ARGV[1]) of the instance
 * whose user holds nick KEYS[1], in one step so that it keeps its place among the
 * sender's events. Returns the receivers (0 when nobody holds the nick).
 */
export const PUBLISH_PRIVATE = `
local cur = redis.call("GET", KEYS[1])
if not cur then return 0 end
local holder = string.match(cur, "^[^\\t\\n]*")
local instance = string.match(holder, "^(.*):[^:]*$") or holder
return redis.call("PUBLISH", ARGV[1] .. instance, ARGV[2])
`;

/** The instance a user id belongs to (ids are `<instance>:<connection id>`). */
export function instanceOf(id: string): string {
  const colon = id.lastIndexOf(":");
  return colon < 0 ? id : id.slice(0, colon);
}

/** Deletes KEYS[1] only if holder ARGV[1] has it. */
export const RELEASE_NICK = `
local cur = redis.call("GET", KEYS[1])
if cur and string.match(cur, "^[^\\t\\n]*") == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 0
`;

/**
 * Removes member ARGV[1] from room hash KEYS[1]; when the room is then empty, forgets
 * the room (ARGV[2] in set KEYS[2]) and its history KEYS[3]. Returns 1 if the member was there.
 */
export const LEAVE_ROOM = `
local removed = redis.call("HDEL", KEYS[1], ARGV[1])
if redis.call("HLEN", KEYS[1]) == 0 then
  redis.call("SREM", KEYS[2], ARGV[2])
  redis.call("DEL", KEYS[3])
end
return removed
`;

/** `<holder id>\t<claimed at, ms>\n<nick>` (the claim time settles conflicts after an outage). */
export function nickValue(id: string, nick: string, since: number): string {
  return `${id}\t${since}\n${nick}`;
}

/** The nick as spelled by its holder, from a nick key's value. */
export function nickFromValue(value: string): string {
  return value.slice(value.indexOf("\n") + 1);
}

export interface MemberRecord {
  readonly node: string;
  readonly lastActive: number;
  readonly nick: string;
}

export function memberValue(node: string, lastActive: number, nick: string): string {
  return `${node}\t${lastActive}\t${nick}`;
}

export function parseMember(value: string): MemberRecord | undefined {
  const a = value.indexOf("\t");
  const b = value.indexOf("\t", a + 1);
  if (a < 0 || b < 0) return undefined;
  const lastActive = Number(value.slice(a + 1, b));
  if (!Number.isFinite(lastActive)) return undefined;
  return { node: value.slice(0, a), lastActive, nick: value.slice(b + 1) };
}

/** A published event: `<node id>\n<event JSON>` (the node id lets a node skip its own events). */
export function encodeEnvelope(node: string, event: ChatEvent): string {
  return `${node}\n${JSON.stringify(event)}`;
}

interface Envelope {
  readonly node: string;
  readonly event: ChatEvent;
}

type Json = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === "string";

function isUser(v: unknown): v is UserRef {
  return typeof v === "object" && v !== null && isString((v as Json).id) && isString((v as Json).nick);
}

/**
 * Checks a decoded value field by field: another node (or anyone who can publish on
 * the channel) must not be able to make this process throw or render `undefined`.
 */
function toEvent(value: unknown): ChatEvent | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const e = value as Json;
  // A late event's delay must render as a number of seconds, never as text the publisher chose.
  if (e.late !== undefined && !(typeof e.late === "number" && Number.isFinite(e.late) && e.late >= 0))
    return undefined;
  switch (e.kind) {
    case "say":
    case "action":
      return isString(e.room) && isUser(e.from) && isString(e.text) && typeof e.ts === "number"
        ? (e as unknown as ChatEvent)
        : undefined;
    case "join":
      return isString(e.room) && isUser(e.user) ? (e as unknown as ChatEvent) : undefined;
    case "leave":
      return isString(e.room) && isUser(e.user) && isString(e.reason)
        ? (e as unknown as ChatEvent)
        : undefined;
    case "rename":
      return isString(e.room) && isUser(e.user) && isString(e.from) ? (e as unknown as ChatEvent) : undefined;
    case "private":
      return isString(e.to) && isUser(e.from) && isString(e.text) ? (e as unknown as ChatEvent) : undefined;
    default:
      // Notices are local to a node and never travel.
      return undefined;
  }
}

export function decodeEnvelope(message: string): Envelope | undefined {
  const nl = message.indexOf("\n");
  if (nl <= 0) return undefined;
  try {
    const event = toEvent(JSON.parse(message.slice(nl + 1)));
    return event === undefined ? undefined : { node: message.slice(0, nl), event };
  } catch {
    return undefined;
  }
}

export function decodeHistory(value: string): HistoryEvent | undefined {
  try {
    const event = toEvent(JSON.parse(value));
    return event !== undefined && (event.kind === "say" || event.kind === "action") ? event : undefined;
  } catch {
    return undefined;
  }
}
