// A node's two Redis connections (commands and publishes in order on one, the
// subscription on the other) and its health: `up` while both are ready, `degraded`
// when one drops or a command fails or hangs (users are told once), `up` again when
// the re-registration after an outage succeeds (and users are told so).
import type { Redis, RedisOptions } from "ioredis";
import type { Logger } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";
import {
  DEGRADED_NOTICE,
  RECOVERED_NOTICE,
  type RedisTransportHealth,
  type RedisTransportOptions,
} from "./redis-settings.js";

const MAX_RETRY_DELAY_MS = 2000;

export interface LinkHooks {
  /** A message on a subscribed channel. */
  message(channel: string, text: string): void;
  /** A notice to every local room (degraded, recovered). */
  notify(text: string): void;
  /** Both connections are ready again while degraded: re-register, then call `recovered()`. */
  reconnected(): void;
}

export class RedisLink {
  private state: RedisTransportHealth = "starting";
  private lastError = "";
  private cmdConn: Redis | undefined;
  private subConn: Redis | undefined;

  constructor(
    private readonly options: RedisTransportOptions,
    /** The URL without its password, for messages and logs. */
    private readonly where: string,
    private readonly logger: Logger,
    private readonly hooks: LinkHooks,
  ) {}

  get health(): RedisTransportHealth {
    return this.state;
  }

  get up(): boolean {
    return this.state === "up";
  }

  /** The command connection while Redis is up; undefined tells the caller to use local state. */
  get cmd(): Redis | undefined {
    return this.up ? this.cmdConn : undefined;
  }

  /** The subscription connection (room and private channels are added and dropped on it as members come and go). */
  get subscriber(): Redis | undefined {
    return this.subConn;
  }

  /** The command connection whatever the health (registration while starting or recovering). */
  get anyCmd(): Redis | undefined {
    return this.cmdConn;
  }

  /**
   * Connects both, subscribes to `channels` and runs `register` (the first heartbeat);
   * fails with ERR_CONNECT_FAILED if Redis does not answer in time.
   */
  async open(channels: string[], register: () => Promise<void>): Promise<void> {
    const base: RedisOptions = {
      // Commands fail at once while disconnected instead of queueing: the chat falls
      // back to local state, and stale messages are not delivered minutes later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.options.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(times - 1, 5)),
      lazyConnect: true,
    };
    // Loaded here, not at start: a chat server without --redis never loads ioredis
    // (its ~80 files are 10 MiB of an idle chat server's RSS, docs/BENCHMARKS.md).
    const { Redis } = await import("ioredis");
    // Closed while the package loaded: open nothing that close() would not see.
    if (this.state === "closed") return;
    const cmd = new Redis(this.options.url, {
      ...base,
      commandTimeout: this.options.commandTimeoutMs ?? 2000,
    });
    const sub = new Redis(this.options.url, base);
    this.cmdConn = cmd;
    this.subConn = sub;
    for (const conn of [cmd, sub]) {
      conn.on("error", (err: Error) => {
        if (err.message !== this.lastError) this.logger.debug({ err: err.message }, "redis connection error");
        this.lastError = err.message;
      });
      conn.on("ready", () => this.changed());
      conn.on("close", () => this.changed());
    }
    sub.on("message", (channel: string, text: string) => this.hooks.message(channel, text));
    sub.on("smessage", (channel: string, text: string) => this.hooks.message(channel, text));
    try {
      await this.connectBoth(cmd, sub);
      await sub.subscribe(...channels);
      await register();
    } catch (err) {
      this.state = "closed";
      cmd.disconnect();
      sub.disconnect();
      const why = this.lastError || (err instanceof Error ? err.message : String(err));
      throw new EchoplexError("ERR_CONNECT_FAILED", `cannot reach Redis at ${this.where}: ${why}`, {
        cause: err,
      });
    }
    // Closed while connecting: stays closed.
    if (this.state === "starting") this.state = "up";
  }

  private async connectBoth(cmd: Redis, sub: Redis): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    // ioredis keeps retrying after a failed first attempt; wait for "ready" rather than connect()'s verdict.
    const ready = (conn: Redis) =>
      new Promise<void>((resolve) => {
        conn.once("ready", () => resolve());
        conn.connect().catch(() => {});
      });
    try {
      await Promise.race([Promise.all([ready(cmd), ready(sub)]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A connection came or went; also called by the heartbeat tick to retry a failed recovery. */
  changed(): void {
    if (this.state === "starting" || this.state === "closed") return;
    const ready = this.cmdConn?.status === "ready" && this.subConn?.status === "ready";
    if (this.state === "up" && !ready) this.degrade(this.lastError || "connection closed");
    else if (this.state === "degraded" && ready) this.hooks.reconnected();
  }

  /**
   * Connected but failing (a hung or out-of-memory Redis: commands time out or are
   * refused) is treated like disconnected; the heartbeat tick tries to recover.
   */
  private degrade(why: string): void {
    if (this.state !== "up") return;
    this.state = "degraded";
    this.logger.warn({ err: why }, "Redis unreachable: chat degraded to this process, reconnecting");
    this.hooks.notify(DEGRADED_NOTICE);
  }

  /** A Redis command failed: degraded until a recovery succeeds. */
  failed(what: string, err: unknown): void {
    this.logger.debug({ err, what }, "Redis command failed");
    this.degrade(err instanceof Error ? err.message : String(err));
  }

  /** Re-registered after an outage: up again (false if the state changed meanwhile, e.g. closed). */
  recovered(): boolean {
    if (this.state !== "degraded") return false;
    this.state = "up";
    this.logger.info("Redis reachable again: chat delivery across servers resumed");
    this.hooks.notify(RECOVERED_NOTICE);
    return true;
  }

  /** Runs `goodbye` (drop this node's records) if Redis is up, lets queued commands go out, disconnects. */
  async close(goodbye: (cmd: Redis) => Promise<unknown>): Promise<void> {
    const wasUp = this.up;
    this.state = "closed";
    const { cmdConn: cmd, subConn: sub } = this;
    if (cmd === undefined || sub === undefined) return;
    if (wasUp) {
      try {
        await goodbye(cmd);
        await Promise.all([cmd.quit(), sub.quit()]);
        return;
      } catch {
        // fall through: drop the connections
      }
    }
    cmd.disconnect();
    sub.disconnect();
  }
}
