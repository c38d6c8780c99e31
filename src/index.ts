// The echoplex library: the connection engine, framings and the ready services. A
// deliberate surface: what a user builds, runs and observes services with; the parts
// the CLI composes them from (--workers aggregation, the chat hub, the client's framing
// helpers) stay inside. docs/API.md lists every name (test/api.test.ts checks it).

export {
  type BenchHandle,
  type BenchMode,
  type BenchOptions,
  type BenchResult,
  type ProgressSnapshot,
  prepareBench,
  runBench,
  startBench,
} from "./bench/index.js";
export * from "./client/index.js";
export * from "./codecs/index.js";
export { type Address, formatAddress, parseAddress } from "./core/address.js";
export { type CloseReason, Connection, type ConnectionStatus, type PeerInfo } from "./core/connection.js";
export type { TransportOptions, WsPage } from "./core/contract.js";
export { DEFAULT_LIMITS, type Limits } from "./core/limits.js";
export { type ListenAddress, parseListenAddress } from "./core/listen-address.js";
export {
  createLogger,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  silentLogger,
} from "./core/logger.js";
export {
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParseResult,
  parseProxyHeader,
} from "./core/proxy-protocol.js";
export {
  createServer,
  EchoplexServer,
  type Handler,
  type LatencyRecorder,
  type ListenInfo,
  type ServerOptions,
} from "./core/server.js";
export type { Service, ServiceCounters, ServiceDescription } from "./core/service.js";
export { counter, gauge, type MetricSample, type ServiceMetric, type TrafficTotals } from "./core/stats.js";
export {
  type CertificateSource,
  type ClientCertPolicy,
  describeServerTls,
  loadServerTls,
  type ServerTls,
  type ServerTlsConfig,
} from "./core/tls.js";
export type {
  Arrival,
  Gate,
  Listener,
  PeerStream,
  TransportKind,
} from "./core/transport.js";
export { EchoplexError, ERROR_CODES, type ErrorCode } from "./errors.js";
export { type FaultHooks, FaultStage, type FaultStageOptions } from "./faults/apply.js";
export {
  FAULT_KINDS,
  type FaultDirection,
  type FaultKind,
  type FaultSpec,
  parseFault,
} from "./faults/parse.js";
export { type ActiveFault, FaultRegistry, type FaultSettings } from "./faults/registry.js";
export * from "./observability/index.js";
export {
  CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  CHAT_DEFAULT_MAX_PENDING_BYTES,
  CHAT_DEFAULT_PORT,
  type ChatEvent,
  type ChatOptions,
  ChatServer,
  type ChatSession,
  type ChatSettings,
  type ChatTransport,
  createChatServer,
  DEFAULT_CHAT_SETTINGS,
  DEFAULT_FLOOD_LIMITS,
  type EventSink,
  FloodControl,
  type FloodLimits,
  type HistoryEvent,
  type MaybePromise,
  type MemberListing,
  MemoryTransport,
  type MemoryTransportOptions,
  RedisTransport,
  type RedisTransportHealth,
  type RedisTransportOptions,
  type RedisTransportStats,
  type RoomListing,
  renderEvent,
  sanitize,
  type UserRef,
} from "./services/chat/index.js";
export {
  CMD_DEFAULT_PORT,
  type CmdFraming,
  type CmdOptions,
  COMMAND_NAMES,
  type CommandName,
  cmdHandler,
  createCmdServer,
  parseRequest,
  reverseGraphemes,
  runCommand,
} from "./services/cmd/index.js";
export {
  createEchoServer,
  ECHO_DEFAULT_PORT,
  ECHO_DEFAULT_PREFIX,
  type EchoMode,
  type EchoOptions,
  echoHandler,
} from "./services/echo/index.js";
export {
  createHttpResponder,
  HTTP_DEFAULT_PORT,
  HTTP_DEFAULTS,
  type HttpPeer,
  HttpResponder,
  type HttpResponderOptions,
  type HttpSettings,
  planResponse,
  type ResponsePlan,
} from "./services/http/index.js";
export {
  createProxyServer,
  PROXY_DEFAULT_PORT,
  type ProxyOptions,
  type ProxyPeer,
} from "./services/proxy/index.js";
export {
  createSinkServer,
  FileRecorder,
  parseSyslog,
  SINK_DEFAULT_MAX_BUFFERED,
  SINK_DEFAULT_PORT,
  type SinkOptions,
  type SinkPeer,
  SinkServer,
  type SinkStatus,
  type SyslogFields,
  type SyslogResult,
} from "./services/sink/index.js";
