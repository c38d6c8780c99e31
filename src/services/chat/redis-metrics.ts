// The Redis transport's metrics on the admin endpoint: what a node sends to and
// receives from Redis (with per-room channels a node receives only its rooms'
// events), the room channels it listens on, and the outage outbox.
import { counter, gauge, type ServiceMetric } from "../../core/stats.js";
import type { RedisTransport } from "./redis-transport.js";

export function redisMetrics(t: RedisTransport): ServiceMetric[] {
  return [
    counter(
      "chat_redis_events_published_total",
      "chat events this process published to Redis",
      () => t.stats.published,
    ),
    counter(
      "chat_redis_events_received_total",
      "chat event messages this process received from Redis (its rooms' and its users' only)",
      () => t.stats.received,
    ),
    gauge(
      "chat_redis_room_channels",
      "room channels this process listens on (rooms with local members)",
      () => t.stats.roomChannels,
    ),
    gauge("chat_redis_sharded_pubsub", "1 when room channels use sharded pub/sub (SSUBSCRIBE)", () =>
      t.stats.sharded ? 1 : 0,
    ),
    gauge(
      "chat_redis_outbox_events",
      "events accepted while Redis was unreachable, waiting to be sent",
      () => t.stats.outboxHeld,
    ),
    counter(
      "chat_redis_outbox_dropped_total",
      "events accepted while Redis was unreachable and dropped because the outbox was full",
      () => t.stats.outboxDropped,
    ),
    counter(
      "chat_redis_late_events_total",
      "events sent marked late, after a Redis outage",
      () => t.stats.sentLate,
    ),
  ];
}
