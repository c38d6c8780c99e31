// The echoplex library: the connection engine, framings and the ready services.
export * from "./codecs/index.js";
export { type Address, formatAddress, parseAddress } from "./core/address.js";
export { type CloseReason, Connection, type ConnectionStatus, type PeerInfo } from "./core/connection.js";
export { EchoplexError, ERROR_CODES, type ErrorCode } from "./core/errors.js";
export { DEFAULT_LIMITS, type Limits } from "./core/limits.js";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./core/logger.js";
export {
  createServer,
  EchoplexServer,
  type Handler,
  type ListenInfo,
  type ServerOptions,
} from "./core/server.js";
export { ServerStats, type TrafficTotals } from "./core/stats.js";
export {
  CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  CHAT_DEFAULT_MAX_PENDING_BYTES,
  CHAT_DEFAULT_PORT,
  type ChatEvent,
  ChatHub,
  type ChatOptions,
  ChatServer,
  type ChatSession,
  type ChatSettings,
  type ChatTransport,
  chatHandler,
  createChatServer,
  DEFAULT_CHAT_SETTINGS,
  DEFAULT_FLOOD_LIMITS,
  type EventSink,
  type FloodLimits,
  type HistoryEvent,
  type MaybePromise,
  type MemberListing,
  MemoryTransport,
  type MemoryTransportOptions,
  RedisTransport,
  type RedisTransportHealth,
  type RedisTransportOptions,
  type RoomListing,
  renderEvent,
  sanitize,
  TokenBucket,
  type UserRef,
} from "./services/chat/index.js";
export {
  createEchoServer,
  ECHO_DEFAULT_PORT,
  ECHO_DEFAULT_PREFIX,
  type EchoMode,
  type EchoOptions,
  echoHandler,
} from "./services/echo/index.js";
export {
  createSinkServer,
  FileRecorder,
  SINK_DEFAULT_MAX_BUFFERED,
  SINK_DEFAULT_PORT,
  type SinkOptions,
  type SinkPeer,
  SinkServer,
  type SinkStatus,
} from "./services/sink/index.js";
