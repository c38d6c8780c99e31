// Per-server limits. Every limit has a default here, a CLI flag, a message to the
// peer and a log line when it is enforced.
import { EchoplexError } from "../errors.js";

export interface Limits {
  /** Close a connection with no traffic in either direction for this long (0: never). */
  idleTimeoutMs: number;
  /** Connections beyond this are answered with an error and closed. */
  maxConnections: number;
  /** Connections from one remote address beyond this are refused (0: no limit). */
  maxConnectionsPerIp: number;
  /** Stop reading from a peer whose unsent replies pass this many bytes; resume on drain. */
  highWaterBytes: number;
  /** Disconnect a peer whose unsent output passes this many bytes (fan-out to slow consumers). */
  maxPendingBytes: number;
  /** How long a graceful shutdown waits for replies to flush before it force-closes. */
  drainTimeoutMs: number;
  /** After we close, how long to keep discarding the peer's input before resetting. */
  lingerMs: number;
  /** With the PROXY protocol on: refuse a connection whose header is not complete within this long. */
  proxyHeaderTimeoutMs: number;
  /** Messages per second one connection may send on average; excess is dropped (0: no limit). */
  maxMessagesPerSecond: number;
  /** Messages one connection may send at once above the average (0: one second's worth). */
  rateBurst: number;
  /** A connection over its rate limit continuously for this long is disconnected. */
  rateGraceMs: number;
  /** Close a connection whose partial line (or frame) has not completed for this long (0: never). */
  lineTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  idleTimeoutMs: 300_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  highWaterBytes: 256 * 1024,
  maxPendingBytes: 8 * 1024 * 1024,
  drainTimeoutMs: 10_000,
  lingerMs: 2_000,
  proxyHeaderTimeoutMs: 5_000,
  maxMessagesPerSecond: 0,
  rateBurst: 0,
  rateGraceMs: 5_000,
  lineTimeoutMs: 30_000,
});

/** Node's socket buffers report "full" at 16 KiB; pausing below that would never see 'drain'. */
const MIN_HIGH_WATER = 16 * 1024;

export function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new EchoplexError("ERR_BAD_OPTION", `limit ${name} must be a non-negative number, got ${value}`);
    }
  }
  if (limits.maxConnections < 1) {
    throw new EchoplexError("ERR_BAD_OPTION", "limit maxConnections must be at least 1");
  }
  if (limits.maxMessagesPerSecond > 0 && limits.rateBurst === 0) {
    limits.rateBurst = Math.max(1, Math.ceil(limits.maxMessagesPerSecond));
  }
  limits.highWaterBytes = Math.max(MIN_HIGH_WATER, limits.highWaterBytes);
  limits.maxPendingBytes = Math.max(limits.highWaterBytes, limits.maxPendingBytes);
  return limits;
}
