// A pool of client connections to one server (generic-pool underneath): max size,
// acquire timeout, idle eviction, a health check before each reuse, and request()
// that pairs each reply with its request for line or length-prefixed protocols.
import { createPool as createGenericPool, type Pool } from "generic-pool";
import { formatAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";
import { Backoff, delay } from "./backoff.js";
import { type ClientTlsOptions, openSocket } from "./connect.js";
import type { ClientFraming } from "./message-framing.js";
import { isEchoplexNotice, type NoticeTest, RequestConnection } from "./request-connection.js";

export interface PoolOptions {
  host: string;
  port: number;
  framing?: ClientFraming;
  /** Most connections open at once. Default 10. */
  max?: number;
  /** Connections kept open even when idle. Default 0. */
  min?: number;
  /** How long request()/acquire() wait for a connection before ERR_TIMEOUT. Default 5 s. */
  acquireTimeoutMs?: number;
  /** Close connections idle for longer than this (above `min`). Default 30 s; 0: never. */
  idleTimeoutMs?: number;
  /** How often idle connections are looked for. Default 1 s. */
  evictionIntervalMs?: number;
  /** Bound on connect (+ TLS handshake). Default 5 s. */
  connectTimeoutMs?: number;
  /** Bound on one request's reply; the connection is then closed (its replies are out of step). Default 10 s; 0: none. */
  requestTimeoutMs?: number;
  /** Longest reply accepted. Default 1 MiB. */
  maxReplyBytes?: number;
  tls?: ClientTlsOptions;
  /**
   * Tells an out-of-band message from a reply. Such a message takes its connection out of
   * service and fails the requests waiting on it. Default: exactly "NOTICE: server shutting
   * down" (echoplex's shutdown notice); pass `() => false` for protocols without notices.
   */
  isNotice?: NoticeTest;
  /** Extra check before a connection is reused (after the built-in liveness check), e.g. a PING. */
  healthCheck?: (conn: RequestConnection) => boolean | Promise<boolean>;
}

export interface PoolStats {
  /** Connections open now (idle + borrowed + being checked). */
  size: number;
  available: number;
  borrowed: number;
  /** Callers waiting for a connection. */
  pending: number;
  created: number;
  destroyed: number;
  connectErrors: number;
}

export interface ConnectionPool {
  /** Sends one request on a pooled connection and resolves with its reply. */
  request(message: Buffer | string, options?: { timeoutMs?: number }): Promise<Buffer>;
  /** Borrows a connection (give it back with release(), or destroy() it). */
  acquire(): Promise<RequestConnection>;
  release(conn: RequestConnection): Promise<void>;
  destroy(conn: RequestConnection): Promise<void>;
  readonly stats: PoolStats;
  /** Stops lending, waits for borrowed connections to come back, closes every connection. */
  close(): Promise<void>;
}

export const POOL_DEFAULTS = {
  max: 10,
  acquireTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  evictionIntervalMs: 1_000,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxReplyBytes: 1024 * 1024,
} as const;

class Pooled implements ConnectionPool {
  private readonly pool: Pool<RequestConnection>;
  private readonly where: string;
  private readonly requestTimeoutMs: number;
  private readonly acquireTimeoutMs: number;
  private closing: Promise<void> | undefined;
  private lastConnectError: EchoplexError | undefined;
  private readonly backoff = new Backoff({ initialMs: 50, maxMs: 2_000 });
  private created = 0;
  private destroyed = 0;
  private connectErrors = 0;

  constructor(options: PoolOptions) {
    const framing = options.framing ?? "lines";
    const maxReplyBytes = options.maxReplyBytes ?? POOL_DEFAULTS.maxReplyBytes;
    const connectTimeoutMs = options.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs;
    this.where = formatAddress(options.host, options.port);
    this.requestTimeoutMs = options.requestTimeoutMs ?? POOL_DEFAULTS.requestTimeoutMs;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? POOL_DEFAULTS.acquireTimeoutMs;
    const max = options.max ?? POOL_DEFAULTS.max;
    const min = options.min ?? 0;
    if (!Number.isInteger(max) || max < 1 || !Number.isInteger(min) || min < 0 || min > max) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        `pool sizes must satisfy 0 <= min <= max, max >= 1 (min ${min}, max ${max})`,
      );
    }
    const idleTimeoutMs = options.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs;
    const healthCheck = options.healthCheck;
    const isNotice = options.isNotice ?? isEchoplexNotice;
    this.pool = createGenericPool<RequestConnection>(
      {
        create: async () => {
          // generic-pool retries a failed create at once; while the server is down, back off instead of spinning.
          if (this.backoff.attempts > 0) await delay(this.backoff.next());
          try {
            const socket = await openSocket({
              host: options.host,
              port: options.port,
              timeoutMs: connectTimeoutMs,
              tls: options.tls,
            });
            this.backoff.reset();
            this.lastConnectError = undefined;
            this.created++;
            return new RequestConnection(
              socket,
              framing,
              maxReplyBytes,
              options.host,
              options.port,
              isNotice,
            );
          } catch (err) {
            this.connectErrors++;
            if (this.backoff.attempts === 0) this.backoff.next();
            this.lastConnectError = EchoplexError.is(err) ? err : undefined;
            throw err;
          }
        },
        destroy: async (conn) => {
          this.destroyed++;
          await conn.close();
        },
        validate: async (conn) => {
          if (!conn.usable || conn.pending > 0) return false;
          if (healthCheck === undefined) return true;
          try {
            return (await healthCheck(conn)) && conn.usable;
          } catch {
            return false;
          }
        },
      },
      {
        max,
        min,
        testOnBorrow: true,
        acquireTimeoutMillis: this.acquireTimeoutMs,
        idleTimeoutMillis: idleTimeoutMs > 0 ? idleTimeoutMs : Number.MAX_SAFE_INTEGER,
        evictionRunIntervalMillis:
          idleTimeoutMs > 0 ? (options.evictionIntervalMs ?? POOL_DEFAULTS.evictionIntervalMs) : 0,
        numTestsPerEvictionRun: max,
        autostart: true,
      },
    );
    // Create errors are reported through acquire timeouts (with the last error); keep them off 'error'.
    this.pool.on("factoryCreateError", () => {});
    this.pool.on("factoryDestroyError", () => {});
  }

  get stats(): PoolStats {
    return {
      size: this.pool.size,
      available: this.pool.available,
      borrowed: this.pool.borrowed,
      pending: this.pool.pending,
      created: this.created,
      destroyed: this.destroyed,
      connectErrors: this.connectErrors,
    };
  }

  async acquire(): Promise<RequestConnection> {
    if (this.closing !== undefined) throw this.closedError();
    try {
      return await this.pool.acquire();
    } catch (err) {
      if (err instanceof Error && err.name === "TimeoutError") {
        const last = this.lastConnectError;
        throw new EchoplexError(
          "ERR_TIMEOUT",
          `no connection to ${this.where} available within ${this.acquireTimeoutMs} ms` +
            (last === undefined ? "" : ` (last connect error: ${last.message})`),
          { cause: last },
        );
      }
      if (this.closing !== undefined) throw this.closedError();
      throw err;
    }
  }

  release(conn: RequestConnection): Promise<void> {
    // A connection that broke while borrowed is never lent again.
    return conn.usable && conn.pending === 0 ? this.pool.release(conn) : this.pool.destroy(conn);
  }

  destroy(conn: RequestConnection): Promise<void> {
    return this.pool.destroy(conn);
  }

  async request(message: Buffer | string, options: { timeoutMs?: number } = {}): Promise<Buffer> {
    const conn = await this.acquire();
    let reply: Buffer;
    try {
      reply = await conn.request(message, options.timeoutMs ?? this.requestTimeoutMs);
    } catch (err) {
      await this.pool.destroy(conn).catch(() => {});
      throw err;
    }
    await this.release(conn);
    return reply;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        await this.pool.drain();
        await this.pool.clear();
      })();
    }
    return this.closing;
  }

  private closedError(): EchoplexError {
    return new EchoplexError("ERR_POOL_CLOSED", `the pool for ${this.where} is closed`);
  }
}

/** Creates a pool of connections to one server. Connections open on demand, up to `max`. */
export function createPool(options: PoolOptions): ConnectionPool {
  return new Pooled(options);
}
