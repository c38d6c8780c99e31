// The chat service: re-exports (the server is in server.ts, the room and user model in hub.ts).
export { type ChatEvent, type HistoryEvent, renderEvent, type UserRef } from "./events.js";
export { DEFAULT_FLOOD_LIMITS, FloodControl, type FloodLimits } from "./flood.js";
export { ChatHub, type ChatSession, type ChatSettings, DEFAULT_CHAT_SETTINGS } from "./hub.js";
export { MemoryTransport, type MemoryTransportOptions } from "./memory-transport.js";
export {
  checkRedisUrl,
  DEGRADED_NOTICE,
  RECOVERED_NOTICE,
  REDIS_DEFAULT_TTL_MS,
  RedisTransport,
  type RedisTransportHealth,
  type RedisTransportOptions,
  type RedisTransportStats,
} from "./redis-transport.js";
export { sanitize } from "./sanitize.js";
export {
  CHAT_DEFAULT_HISTORY,
  CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  CHAT_DEFAULT_MAX_PENDING_BYTES,
  CHAT_DEFAULT_PORT,
  type ChatOptions,
  ChatServer,
  chatHandler,
  createChatServer,
} from "./server.js";
export type { ChatTransport, EventSink, MaybePromise, MemberListing, RoomListing } from "./transport.js";
