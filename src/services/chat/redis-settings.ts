// The Redis transport's options, health states and the notices users see, apart
// from the transport itself so that checking a `--redis` URL does not load ioredis.
import type { Logger } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";

export interface RedisTransportOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). */
  url: string;
  /** Messages kept per room for replay (0: none). Default 20. */
  historySize?: number;
  /** How long a crashed node's nicks and room members outlive it; refreshed every third of it. Default 15 s. */
  ttlMs?: number;
  /** Prefix of every key and of the channel. Default `echoplex:chat:`. */
  prefix?: string;
  /** How long to wait for Redis at start before failing. Default 5 s. */
  connectTimeoutMs?: number;
  /** A Redis command that takes longer fails (the chat falls back to local state). Default 2 s. */
  commandTimeoutMs?: number;
  /** Events accepted while Redis is unreachable, kept to publish (marked late) after recovery. Default 1000. */
  outbox?: number;
  /** `auto`: sharded pub/sub (SSUBSCRIBE) for room channels when Redis has it; `classic`: always SUBSCRIBE. */
  pubsub?: PubSubMode;
  logger?: Logger;
}

export interface RedisTransportStats {
  /** Events this node published to Redis (confirmed by Redis). */
  readonly published: number;
  /** Event messages this node received from Redis (its rooms' and its users' only). */
  readonly received: number;
  /** Room channels this node listens on (rooms with local members). */
  readonly roomChannels: number;
  /** Room channels use sharded pub/sub (SSUBSCRIBE/SPUBLISH). */
  readonly sharded: boolean;
  /** Events waiting in the outbox (accepted while Redis was unreachable). */
  readonly outboxHeld: number;
  /** Events dropped because the outbox was full. */
  readonly outboxDropped: number;
  /** Events published late, after an outage. */
  readonly sentLate: number;
}

/** `up`: Redis reachable, events reach every node; `degraded`: this node only. */
export type RedisTransportHealth = "starting" | "up" | "degraded" | "closed";

export const REDIS_DEFAULT_TTL_MS = 15_000;
export const REDIS_DEFAULT_OUTBOX = 1000;
export const PUBSUB_MODES = ["auto", "classic"] as const;
export type PubSubMode = (typeof PUBSUB_MODES)[number];
export const DEGRADED_NOTICE = "chat is degraded: Redis is unreachable, messages reach only this server";
export const RECOVERED_NOTICE = "chat recovered: messages reach every server again";

/** Checks a Redis URL; returns a form without the password, for messages and logs. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --redis "${url}": expected redis://HOST:PORT`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --redis "${url}": expected redis:// or rediss://`);
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
}
