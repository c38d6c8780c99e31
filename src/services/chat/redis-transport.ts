// The chat transport shared through Redis (ioredis): every echoplex process that
// uses the same Redis sees the same rooms, nicks, history and events. Each node
// also keeps its own users in an in-process MemoryTransport, which delivers local
// events at once and answers on its own while Redis is unreachable (degraded:
// users on this node still talk to each other, and are told so).
import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { type Logger, silentLogger } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";
import { type ChatEvent, type HistoryEvent, isHistoryEvent, type UserRef } from "./events.js";
import { MemoryTransport } from "./memory-transport.js";
import { nickKey } from "./names.js";
import { NickClaims, type NickLostHandler } from "./nick-claims.js";
import {
  decodeEnvelope,
  decodeHistory,
  encodeEnvelope,
  LEAVE_ROOM,
  memberValue,
  nickFromValue,
  parseMember,
  RELEASE_NICK,
  RedisKeys,
} from "./redis-wire.js";
import type { ChatTransport, EventSink, MemberListing, RoomListing } from "./transport.js";

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
  logger?: Logger;
}

/** `up`: Redis reachable, events reach every node; `degraded`: this node only. */
export type RedisTransportHealth = "starting" | "up" | "degraded" | "closed";

export const REDIS_DEFAULT_TTL_MS = 15_000;
export const DEGRADED_NOTICE = "chat is degraded: Redis is unreachable, messages reach only this server";
export const RECOVERED_NOTICE = "chat recovered: messages reach every server again";
/** Fire-and-forget publishes in flight before the sender is made to wait (bounds ioredis' queue). */
const MAX_IN_FLIGHT = 10_000;
const MAX_RETRY_DELAY_MS = 2000;
const ACTIVITY_RESOLUTION_MS = 1000;

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

interface LocalMember {
  room: string;
  nick: string;
  lastActive: number;
  /** The last activity written to Redis (written at most once a second: idle times are in seconds). */
  synced: number;
}

export class RedisTransport implements ChatTransport {
  /** This node's id in Redis (heartbeat key, member records, envelope origin). */
  readonly node = randomBytes(6).toString("hex");
  private readonly keys: RedisKeys;
  private readonly local: MemoryTransport;
  private readonly historySize: number;
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private readonly where: string;
  private cmd: Redis | undefined;
  private sub: Redis | undefined;
  private sink: EventSink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private state: RedisTransportHealth = "starting";
  private lastError = "";
  private inFlight = 0;
  /** Local users' nicks, re-claimed on every heartbeat and after an outage. */
  private readonly claims: NickClaims;
  private nickLost: NickLostHandler | undefined;
  /** Nicks lost while re-claiming after an outage: the hub renames their users once the transport is up. */
  private readonly lostWhileRecovering: Array<[string, string]> = [];
  /** Local users' rooms, re-registered after an outage (Redis may have lost them). */
  private readonly members = new Map<string, LocalMember>();
  private fallbackGuests = 0;
  private recovering = false;
  private malformed = 0;
  private malformedLoggedAt = 0;

  constructor(private readonly options: RedisTransportOptions) {
    this.where = checkRedisUrl(options.url);
    this.keys = new RedisKeys(options.prefix ?? "echoplex:chat:");
    this.historySize = options.historySize ?? 20;
    this.ttlMs = options.ttlMs ?? REDIS_DEFAULT_TTL_MS;
    if (!(this.ttlMs >= 300)) throw new EchoplexError("ERR_BAD_OPTION", "--redis-ttl must be at least 300ms");
    this.logger = (options.logger ?? silentLogger()).child({ redis: this.where, node: this.node });
    this.local = new MemoryTransport({ historySize: this.historySize });
    this.claims = new NickClaims(this.keys, this.ttlMs, (id, nick) => {
      this.local.releaseNick(id);
      // Renamed now, the user's guest nick would be claimed on this node only.
      if (this.recovering) this.lostWhileRecovering.push([id, nick]);
      else this.nickLost?.(id, nick);
    });
  }

  onNickLost(handler: NickLostHandler): void {
    this.nickLost = handler;
  }

  get health(): RedisTransportHealth {
    return this.state;
  }

  private get up(): boolean {
    return this.state === "up";
  }

  // --- life ----------------------------------------------------------------------------

  /** Connects (two connections: commands and publishes in order on one, subscription on the other). */
  async subscribe(sink: EventSink): Promise<void> {
    this.sink = sink;
    this.local.subscribe(sink);
    const base: RedisOptions = {
      // Commands fail at once while disconnected instead of queueing: the chat falls
      // back to local state, and stale messages are not delivered minutes later.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.options.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(times - 1, 5)),
      lazyConnect: true,
    };
    const cmd = new Redis(this.options.url, {
      ...base,
      commandTimeout: this.options.commandTimeoutMs ?? 2000,
    });
    const sub = new Redis(this.options.url, base);
    this.cmd = cmd;
    this.sub = sub;
    for (const conn of [cmd, sub]) {
      conn.on("error", (err: Error) => {
        if (err.message !== this.lastError) this.logger.debug({ err: err.message }, "redis connection error");
        this.lastError = err.message;
      });
      conn.on("ready", () => this.onConnectionChange());
      conn.on("close", () => this.onConnectionChange());
    }
    sub.on("message", (channel: string, message: string) => {
      if (channel === this.keys.nickChannel) this.claims.taken(message);
      else this.receive(message);
    });
    try {
      await this.connectBoth(cmd, sub);
      await sub.subscribe(this.keys.channel, this.keys.nickChannel);
      await this.heartbeat();
    } catch (err) {
      this.state = "closed";
      cmd.disconnect();
      sub.disconnect();
      const why = this.lastError || (err instanceof Error ? err.message : String(err));
      throw new EchoplexError("ERR_CONNECT_FAILED", `cannot reach Redis at ${this.where}: ${why}`, {
        cause: err,
      });
    }
    this.state = "up";
    this.logger.info({ prefix: this.keys.prefix }, "chat transport: connected to Redis");
    this.timer = setInterval(() => this.tick(), Math.floor(this.ttlMs / 3));
    this.timer.unref();
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

  /** Drops this node's records, lets queued commands go out, disconnects. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const wasUp = this.up;
    this.state = "closed";
    this.local.close();
    const { cmd, sub } = this;
    if (cmd === undefined || sub === undefined) return;
    if (wasUp) {
      try {
        await cmd.pipeline().del(this.keys.node(this.node)).srem(this.keys.nodes, this.node).exec();
        await Promise.all([cmd.quit(), sub.quit()]);
        return;
      } catch {
        // fall through: drop the connections
      }
    }
    cmd.disconnect();
    sub.disconnect();
  }

  // --- health ----------------------------------------------------------------------------

  private onConnectionChange(): void {
    if (this.state === "starting" || this.state === "closed") return;
    const ready = this.cmd?.status === "ready" && this.sub?.status === "ready";
    if (this.state === "up" && !ready) this.degrade(this.lastError || "connection closed");
    else if (this.state === "degraded" && ready) void this.recover();
  }

  /**
   * Connected but failing (a hung or out-of-memory Redis: commands time out or are
   * refused) is treated like disconnected; the heartbeat tick tries to recover.
   */
  private degrade(why: string): void {
    if (this.state !== "up") return;
    this.state = "degraded";
    this.logger.warn({ err: why }, "Redis unreachable: chat degraded to this process, reconnecting");
    this.notifyRooms(DEGRADED_NOTICE);
  }

  private failed(what: string, err: unknown): void {
    this.logger.debug({ err, what }, "Redis command failed");
    this.degrade(err instanceof Error ? err.message : String(err));
  }

  /** Redis is back (possibly empty after a restart): claim our nicks and rooms again, then say so. */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      await this.heartbeat(true);
      if (this.state !== "degraded") return;
      this.state = "up";
      this.logger.info("Redis reachable again: chat delivery across servers resumed");
      this.notifyRooms(RECOVERED_NOTICE);
      await this.dropStaleMembers(this.cmd!);
    } catch (err) {
      this.logger.warn({ err }, "Redis back but re-registering failed; will retry");
    } finally {
      this.recovering = false;
      for (const [id, nick] of this.lostWhileRecovering.splice(0)) this.nickLost?.(id, nick);
    }
  }

  /** Removes this node's users who left while Redis was unreachable (if Redis kept them), telling the other nodes. */
  private async dropStaleMembers(cmd: Redis): Promise<void> {
    for (const room of await cmd.smembers(this.keys.rooms)) {
      const entries = await cmd.hgetall(this.keys.room(room));
      for (const [id, value] of Object.entries(entries)) {
        const m = parseMember(value);
        if (m === undefined || m.node !== this.node || this.members.get(id)?.room === room) continue;
        const removed = await cmd.eval(
          LEAVE_ROOM,
          3,
          this.keys.room(room),
          this.keys.rooms,
          this.keys.history(room),
          id,
          room,
        );
        // Local users saw this departure when it happened; only the other nodes need it.
        const leave: ChatEvent = {
          kind: "leave",
          room,
          user: { id, nick: m.nick },
          reason: "left during a Redis outage",
        };
        if (removed === 1) this.publishRemote(cmd, leave);
      }
    }
  }

  private tick(): void {
    // A failed re-registration after an outage is retried here.
    if (this.state === "degraded") this.onConnectionChange();
    else void this.heartbeat();
  }

  private notifyRooms(text: string): void {
    for (const { room } of this.local.rooms()) this.local.publish({ kind: "notice", room, text });
  }

  /**
   * Every third of the TTL: refresh this node's heartbeat and nick claims, and clean up
   * after nodes whose heartbeat expired. With `full`, also re-register room members.
   */
  private async heartbeat(full = false): Promise<void> {
    const cmd = this.cmd;
    if (cmd === undefined || (!full && !this.up && this.state !== "starting")) return;
    const ttl = String(this.ttlMs);
    const p = cmd.pipeline();
    p.set(this.keys.node(this.node), "1", "PX", ttl);
    p.sadd(this.keys.nodes, this.node);
    const settle = this.claims.refresh(p, full);
    if (full) {
      const now = Date.now();
      for (const [id, m] of this.members) {
        p.sadd(this.keys.rooms, m.room);
        p.hset(this.keys.room(m.room), id, memberValue(this.node, Math.min(now, m.lastActive), m.nick));
      }
    }
    try {
      const results = (await p.exec()) ?? [];
      for (const [err] of results) if (err) throw err;
      settle(results);
      // Not while starting: departures announced before this node publishes would be lost.
      if (!full && this.up) await this.reapDeadNodes(cmd);
    } catch (err) {
      if (full) throw err;
      this.failed("heartbeat", err);
    }
  }

  /** Removes the members of nodes whose heartbeat expired (crashed), frees their nicks, tells their rooms. */
  private async reapDeadNodes(cmd: Redis): Promise<void> {
    const others = (await cmd.smembers(this.keys.nodes)).filter((n) => n !== this.node);
    if (others.length === 0) return;
    const beats = await cmd.mget(others.map((n) => this.keys.node(n)));
    const dead = others.filter((_, i) => beats[i] === null);
    for (const node of dead) {
      // SREM answers 1 to exactly one survivor: only it announces the departures.
      if ((await cmd.srem(this.keys.nodes, node)) !== 1) continue;
      this.logger.warn({ dead: node }, "a chat server stopped refreshing its heartbeat: removing its users");
      for (const room of await cmd.smembers(this.keys.rooms)) {
        const entries = await cmd.hgetall(this.keys.room(room));
        for (const [id, value] of Object.entries(entries)) {
          const m = parseMember(value);
          if (m === undefined || m.node !== node) continue;
          // Free the nick before announcing the departure: whoever reads "left" may take it at once.
          await cmd.eval(RELEASE_NICK, 1, this.keys.nick(m.nick), id);
          const removed = await cmd.eval(
            LEAVE_ROOM,
            3,
            this.keys.room(room),
            this.keys.rooms,
            this.keys.history(room),
            id,
            room,
          );
          if (removed === 1)
            this.publish({ kind: "leave", room, user: { id, nick: m.nick }, reason: "server lost" });
        }
      }
    }
  }

  // --- delivery ----------------------------------------------------------------------------

  private receive(message: string): void {
    const envelope = decodeEnvelope(message);
    if (envelope === undefined) {
      this.malformed++;
      // One line per 10 s at most: a bad publisher must not flood the log.
      const now = Date.now();
      if (now - this.malformedLoggedAt >= 10_000) {
        this.malformedLoggedAt = now;
        this.logger.warn(
          { bytes: message.length, ignoredSoFar: this.malformed },
          "ignoring a malformed chat event from Redis",
        );
      }
      return;
    }
    // Our own events were delivered locally when published.
    if (envelope.node === this.node) return;
    this.sink?.(envelope.event);
  }

  /**
   * Delivers locally at once (and updates local state), then sends the event and its
   * state changes to Redis on the one command connection, which keeps every sender's
   * events in order. Does not wait for Redis unless many publishes are in flight.
   */
  publish(event: ChatEvent): void | Promise<void> {
    this.local.publish(event);
    if (event.kind === "rename") {
      // Also while degraded: recovery re-registers members under these nicks.
      const m = this.members.get(event.user.id);
      if (m !== undefined) m.nick = event.user.nick;
    }
    const cmd = this.cmd;
    if (!this.up || cmd === undefined) return;
    return this.publishRemote(cmd, event);
  }

  private publishRemote(cmd: Redis, event: ChatEvent): void | Promise<void> {
    const p = cmd.pipeline();
    if (isHistoryEvent(event)) {
      const m = this.members.get(event.from.id);
      if (m !== undefined) {
        m.lastActive = event.ts;
        if (event.ts - m.synced >= ACTIVITY_RESOLUTION_MS) {
          m.synced = event.ts;
          p.hset(this.keys.room(m.room), event.from.id, memberValue(this.node, event.ts, m.nick));
        }
      }
      if (this.historySize > 0) {
        const key = this.keys.history(event.room);
        p.lpush(key, JSON.stringify(event));
        p.ltrim(key, 0, this.historySize - 1);
      }
    } else if (event.kind === "rename") {
      const m = this.members.get(event.user.id);
      if (m !== undefined)
        p.hset(this.keys.room(m.room), event.user.id, memberValue(this.node, m.lastActive, m.nick));
    }
    p.publish(this.keys.channel, encodeEnvelope(this.node, event));
    this.inFlight++;
    const done = p.exec().then(
      (results) => {
        this.inFlight--;
        const err = results?.find(([e]) => e !== null)?.[0];
        if (err) this.failed("publish", err);
      },
      (err: unknown) => {
        this.inFlight--;
        this.failed("publish", err);
      },
    );
    if (this.inFlight > MAX_IN_FLIGHT) return done;
  }

  // --- nicks ----------------------------------------------------------------------------------

  async claimNick(id: string, nick: string): Promise<boolean> {
    const previous = this.claims.nick(id);
    // Another user of this node holds it: no need to ask Redis.
    if (!this.local.claimNick(id, nick)) return false;
    const cmd = this.cmd;
    if (this.up && cmd !== undefined) {
      try {
        if (await this.claims.claim(cmd, id, nick)) return true;
        if (previous === undefined) this.local.releaseNick(id);
        else this.local.claimNick(id, previous);
        return false;
      } catch (err) {
        // Redis failed under us: keep the local claim, as while degraded.
        this.failed("nick claim (claimed locally)", err);
      }
    }
    this.claims.claimLocally(id, nick);
    return true;
  }

  releaseNick(id: string): void {
    this.local.releaseNick(id);
    const nick = this.claims.forget(id);
    if (nick === undefined) return;
    if (!this.up || this.cmd === undefined) {
      // Redis may still hold it (a hung Redis keeps its data): released on recovery.
      this.claims.releaseLater(id, nick);
      return;
    }
    this.cmd.eval(RELEASE_NICK, 1, this.keys.nick(nick), id).catch((err: unknown) => {
      this.failed("nick release (it will expire)", err);
    });
  }

  async findNick(nick: string): Promise<string | undefined> {
    const local = this.local.findNick(nick);
    if (local !== undefined || !this.up || this.cmd === undefined) return local;
    try {
      const value = await this.cmd.get(this.keys.nick(nick));
      return value === null ? undefined : nickFromValue(value);
    } catch (err) {
      this.failed("find nick", err);
      return undefined;
    }
  }

  async nextGuestNumber(): Promise<number> {
    if (this.up && this.cmd !== undefined) {
      try {
        return await this.cmd.incr(this.keys.guests);
      } catch (err) {
        this.failed("guest number", err);
      }
    }
    // Degraded: a number unlikely to be in use elsewhere (claims are only checked locally now).
    return 100_000 + Math.floor(Math.random() * 800_000) + (++this.fallbackGuests % 100_000);
  }

  // --- rooms ----------------------------------------------------------------------------------

  enterRoom(room: string, user: UserRef): void {
    const now = Date.now();
    this.local.enterRoom(room, user);
    this.members.set(user.id, { room, nick: user.nick, lastActive: now, synced: now });
    if (!this.up || this.cmd === undefined) return;
    this.cmd
      .pipeline()
      .sadd(this.keys.rooms, room)
      .hset(this.keys.room(room), user.id, memberValue(this.node, now, user.nick))
      .exec()
      .then((results) => {
        const err = results?.find(([e]) => e !== null)?.[0];
        if (err) this.failed("room entry", err);
      })
      .catch((err: unknown) => this.failed("room entry", err));
  }

  leaveRoom(room: string, id: string): void {
    this.local.leaveRoom(room, id);
    this.members.delete(id);
    if (!this.up || this.cmd === undefined) return;
    this.cmd
      .eval(LEAVE_ROOM, 3, this.keys.room(room), this.keys.rooms, this.keys.history(room), id, room)
      .catch((err: unknown) => this.failed("room exit", err));
  }

  /** Members of the given room hashes whose node is alive (this node, or a fresh heartbeat). */
  private async liveMembers(cmd: Redis, rooms: string[]): Promise<Array<Array<[string, number]>>> {
    const p = cmd.pipeline();
    for (const room of rooms) p.hgetall(this.keys.room(room));
    const hashes = ((await p.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value as Record<string, string>;
    });
    const parsed = hashes.map((h) => Object.values(h).flatMap((v) => parseMember(v) ?? []));
    const nodes = [...new Set(parsed.flat().map((m) => m.node))].filter((n) => n !== this.node);
    const beats = nodes.length === 0 ? [] : await cmd.mget(nodes.map((n) => this.keys.node(n)));
    const alive = new Set([this.node, ...nodes.filter((_, i) => beats[i] !== null)]);
    return parsed.map((members) =>
      members.filter((m) => alive.has(m.node)).map((m): [string, number] => [m.nick, m.lastActive]),
    );
  }

  async rooms(): Promise<RoomListing[]> {
    const cmd = this.cmd;
    if (!this.up || cmd === undefined) return this.local.rooms();
    try {
      const names = (await cmd.smembers(this.keys.rooms)).sort();
      const members = await this.liveMembers(cmd, names);
      return names.map((room, i) => ({ room, members: members[i]!.length })).filter((r) => r.members > 0);
    } catch (err) {
      this.failed("rooms", err);
      return this.local.rooms();
    }
  }

  async who(room: string): Promise<MemberListing[]> {
    const cmd = this.cmd;
    if (!this.up || cmd === undefined) return this.local.who(room);
    try {
      const [members] = await this.liveMembers(cmd, [room]);
      const now = Date.now();
      return members!
        .map(([nick, lastActive]) => ({ nick, idleMs: Math.max(0, now - lastActive) }))
        .sort((a, b) => (nickKey(a.nick) < nickKey(b.nick) ? -1 : 1));
    } catch (err) {
      this.failed("who", err);
      return this.local.who(room);
    }
  }

  async history(room: string): Promise<HistoryEvent[]> {
    const cmd = this.cmd;
    if (this.historySize === 0) return [];
    if (!this.up || cmd === undefined) return this.local.history(room);
    try {
      const values = await cmd.lrange(this.keys.history(room), 0, this.historySize - 1);
      return values.reverse().flatMap((v) => decodeHistory(v) ?? []);
    } catch (err) {
      this.failed("history", err);
      return this.local.history(room);
    }
  }
}
