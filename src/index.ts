// The echoplex library: the connection engine, framings and the ready services.
export * from "./codecs/index.js";
export { type Address, formatAddress, parseAddress } from "./core/address.js";
export { type CloseReason, Connection, type ConnectionStatus, type PeerInfo } from "./core/connection.js";
export { EchoplexError, ERROR_CODES, type ErrorCode } from "./core/errors.js";
export { DEFAULT_LIMITS, type Limits } from "./core/limits.js";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./core/logger.js";
export {
  encodeProxyHeaderV1,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParseResult,
  parseProxyHeader,
} from "./core/proxy-protocol.js";
export {
  createServer,
  EchoplexServer,
  type Handler,
  type ListenInfo,
  type ServerOptions,
} from "./core/server.js";
export { ServerStats, type TrafficTotals } from "./core/stats.js";
export {
  createEchoServer,
  ECHO_DEFAULT_PORT,
  ECHO_DEFAULT_PREFIX,
  type EchoMode,
  type EchoOptions,
  echoHandler,
} from "./services/echo/index.js";
