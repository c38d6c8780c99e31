// The client side: connecting (TCP, TLS, Unix, WebSocket, UDP), the CLI client's sessions and the connection pool.
export { Backoff, type BackoffOptions } from "./backoff.js";
export {
  type ClientTlsOptions,
  type ConnectOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  openSocket,
} from "./connect.js";
export type { ClientFraming } from "./message-framing.js";
export { type LinkOptions, openLink } from "./open-link.js";
export { type ConnectionPool, createPool, POOL_DEFAULTS, type PoolOptions, type PoolStats } from "./pool.js";
export { connectWithRetry, type RetryOptions } from "./reconnect.js";
export {
  isEchoplexNotice,
  type NoticeTest,
  RequestConnection,
  type RequestConnectionStatus,
} from "./request-connection.js";
export { runClientSession, type SessionOptions } from "./session.js";
export { type ClientTarget, type ClientTransport, parseClientTarget } from "./target.js";
