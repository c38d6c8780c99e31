// The chat transport shared through Redis (ioredis): every echoplex process that
// uses the same Redis sees the same rooms, nicks, history and events. Each node
// also keeps its own users in an in-process MemoryTransport, which delivers local
// events at once and answers on its own while Redis is unreachable (degraded:
// users on this node still talk to each other, and are told so). This class wires
// the parts: connections and health (redis-link.ts), heartbeat and reaper
// (redis-heartbeat.ts), events (redis-delivery.ts) on per-room and per-instance
// channels (redis-channels.ts), the outbox of events accepted during an outage
// (redis-outbox.ts), listings (redis-listings.ts), nick claims (nick-claims.ts).
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { type Logger, silentLogger } from "../../core/logger.js";
import { EchoplexError } from "../../errors.js";
import type { ChatEvent, HistoryEvent, UserRef } from "./events.js";
import { MemoryTransport } from "./memory-transport.js";
import { NickClaims, type NickLostHandler } from "./nick-claims.js";
import { hasShardedPubSub, RoomChannels } from "./redis-channels.js";
import { RedisDelivery } from "./redis-delivery.js";
import { Heartbeat } from "./redis-heartbeat.js";
import { RedisLink } from "./redis-link.js";
import { listMembers, listRooms, readHistory } from "./redis-listings.js";
import { execChecked, type LocalMember, type RedisNode, removeMember } from "./redis-node.js";
import { Outbox } from "./redis-outbox.js";
import {
  checkRedisUrl,
  REDIS_DEFAULT_OUTBOX,
  REDIS_DEFAULT_TTL_MS,
  type RedisTransportHealth,
  type RedisTransportOptions,
  type RedisTransportStats,
} from "./redis-settings.js";
import { instanceOf, memberValue, nickFromValue, RELEASE_NICK, RedisKeys } from "./redis-wire.js";
import type { ChatTransport, EventSink, MemberListing, RoomListing } from "./transport.js";

export {
  checkRedisUrl,
  DEGRADED_NOTICE,
  RECOVERED_NOTICE,
  REDIS_DEFAULT_TTL_MS,
  type RedisTransportHealth,
  type RedisTransportOptions,
  type RedisTransportStats,
} from "./redis-settings.js";

export class RedisTransport implements ChatTransport {
  /** This node's id in Redis (heartbeat key, member records, envelope origin). */
  readonly node = randomBytes(6).toString("hex");
  private readonly keys: RedisKeys;
  private readonly local: MemoryTransport;
  private readonly historySize: number;
  private readonly logger: Logger;
  private readonly link: RedisLink;
  private readonly parts: RedisNode;
  /** Local users' nicks, re-claimed on every heartbeat and after an outage. */
  private readonly claims: NickClaims;
  private readonly heartbeat: Heartbeat;
  private readonly delivery: RedisDelivery;
  private readonly channels: RoomChannels;
  private readonly outbox: Outbox;
  private nickLost: NickLostHandler | undefined;
  private fallbackGuests = 0;

  constructor(options: RedisTransportOptions) {
    const where = checkRedisUrl(options.url);
    this.keys = new RedisKeys(options.prefix ?? "echoplex:chat:");
    this.historySize = options.historySize ?? 20;
    const ttlMs = options.ttlMs ?? REDIS_DEFAULT_TTL_MS;
    if (!(ttlMs >= 300)) throw new EchoplexError("ERR_BAD_OPTION", "--redis-ttl must be at least 300ms");
    this.logger = (options.logger ?? silentLogger()).child({ redis: where, node: this.node });
    this.local = new MemoryTransport({ historySize: this.historySize });
    this.link = new RedisLink(options, where, this.logger, {
      message: (channel, text) => {
        if (channel === this.keys.nickChannel) this.claims.taken(text);
        else this.delivery.receive(text);
      },
      notify: (text) => {
        for (const { room } of this.local.rooms()) this.local.publish({ kind: "notice", room, text });
      },
      reconnected: () => void this.heartbeat.recover(),
    });
    const members = new Map<string, LocalMember>();
    this.parts = { id: this.node, keys: this.keys, logger: this.logger, link: this.link, members };
    this.claims = new NickClaims(this.keys, ttlMs, (id, nick) => {
      this.local.releaseNick(id);
      this.heartbeat.lost(id, nick);
    });
    this.delivery = new RedisDelivery(this.parts, this.historySize);
    this.channels = new RoomChannels(this.keys, this.link, options.pubsub ?? "auto");
    const outbox = options.outbox ?? REDIS_DEFAULT_OUTBOX;
    if (!(Number.isInteger(outbox) && outbox >= 0))
      throw new EchoplexError("ERR_BAD_OPTION", "--redis-outbox must be a whole number");
    this.outbox = new Outbox(this.parts, outbox, ttlMs);
    this.delivery.heard = (node) => this.outbox.peers.add(node);
    this.heartbeat = new Heartbeat(this.parts, this.claims, ttlMs, {
      publish: (event) => void this.publish(event),
      publishRemote: (cmd, event) => void this.delivery.publishRemote(cmd, event),
      nickLost: (id, nick) => this.nickLost?.(id, nick),
      peers: (alive) => {
        this.outbox.peers.clear();
        for (const n of alive) this.outbox.peers.add(n);
      },
      resubscribe: () => this.channels.resubscribe(),
      flush: (cmd) =>
        this.outbox.flush(cmd, (event, late) => void this.delivery.publishRemote(cmd, event, late)),
    });
  }

  onNickLost(handler: NickLostHandler): void {
    this.nickLost = handler;
  }

  get health(): RedisTransportHealth {
    return this.link.health;
  }

  /** Counts for the metrics: events sent and received, room channels, the outbox. */
  get stats(): RedisTransportStats {
    return {
      published: this.delivery.published,
      received: this.delivery.received,
      roomChannels: this.channels.roomCount,
      sharded: this.channels.sharded,
      outboxHeld: this.outbox.size,
      outboxDropped: this.outbox.dropped,
      sentLate: this.outbox.sentLate,
    };
  }

  private get members(): Map<string, LocalMember> {
    return this.parts.members;
  }

  /** Redis failed under a command: the transport is degraded until it recovers. */
  private failed(what: string, err: unknown): void {
    this.link.failed(what, err);
  }

  // --- life ----------------------------------------------------------------------------

  /** Connects (two connections: commands and publishes in order on one, subscription on the other). */
  async subscribe(sink: EventSink): Promise<void> {
    this.delivery.sink = sink;
    this.local.subscribe(sink);
    await this.link.open([this.keys.nickChannel], () => this.heartbeat.beat());
    if (!this.link.up) return; // closed meanwhile: no heartbeat task left behind
    const sharded = this.channels.mode === "auto" && (await hasShardedPubSub(this.link.anyCmd!));
    this.channels.sharded = sharded;
    this.delivery.sharded = sharded;
    const pubsub = sharded ? "sharded" : "classic";
    this.logger.info({ prefix: this.keys.prefix, pubsub }, "chat transport: connected to Redis");
    this.heartbeat.start();
  }

  /** Drops this node's records, lets queued commands go out, disconnects. */
  async close(): Promise<void> {
    this.heartbeat.stop();
    this.local.close();
    await this.link.close((cmd) =>
      cmd.pipeline().del(this.keys.node(this.node)).srem(this.keys.nodes, this.node).exec(),
    );
  }

  // --- delivery ----------------------------------------------------------------------------

  /**
   * Delivers locally at once (and updates local state), then sends the event and its
   * state changes to Redis on the one command connection, which keeps every sender's
   * events in order. Does not wait for Redis unless many publishes are in flight.
   * While Redis is unreachable (and until the outbox is sent after recovery) the
   * event waits in the outbox.
   */
  publish(event: ChatEvent): void | Promise<void> {
    this.local.publish(event);
    if (event.kind === "rename") {
      // Also while degraded: recovery re-registers members under these nicks.
      const m = this.members.get(event.user.id);
      if (m !== undefined) m.nick = event.user.nick;
    }
    const cmd = this.link.cmd;
    if (cmd === undefined || this.outbox.holding) {
      if (this.link.health !== "closed") this.outbox.add(event, cmd === undefined);
      return;
    }
    return this.delivery.publishRemote(cmd, event);
  }

  // --- nicks ----------------------------------------------------------------------------------

  async claimNick(id: string, nick: string): Promise<boolean> {
    // Private messages to this user's instance arrive on its channel: listen before anyone can send one.
    await this.channels.instance(instanceOf(id));
    const previous = this.claims.nick(id);
    // Another user of this node holds it: no need to ask Redis.
    if (!this.local.claimNick(id, nick)) return false;
    const cmd = this.link.cmd;
    if (cmd !== undefined) {
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
    const cmd = this.link.cmd;
    if (cmd === undefined) {
      // Redis may still hold it (a hung Redis keeps its data): released on recovery.
      this.claims.releaseLater(id, nick);
      return;
    }
    cmd.eval(RELEASE_NICK, 1, this.keys.nick(nick), id).catch((err: unknown) => {
      this.failed("nick release (it will expire)", err);
    });
  }

  async findNick(nick: string): Promise<string | undefined> {
    const local = this.local.findNick(nick);
    const cmd = this.link.cmd;
    if (local !== undefined || cmd === undefined) return local;
    try {
      const value = await cmd.get(this.keys.nick(nick));
      return value === null ? undefined : nickFromValue(value);
    } catch (err) {
      this.failed("find nick", err);
      return undefined;
    }
  }

  async nextGuestNumber(): Promise<number> {
    const cmd = this.link.cmd;
    if (cmd !== undefined) {
      try {
        return await cmd.incr(this.keys.guests);
      } catch (err) {
        this.failed("guest number", err);
      }
    }
    // Degraded: a number unlikely to be in use elsewhere (claims are only checked locally now).
    return 100_000 + Math.floor(Math.random() * 800_000) + (++this.fallbackGuests % 100_000);
  }

  // --- rooms ----------------------------------------------------------------------------------

  /** Resolves once this node listens on the room's channel (the hub announces and replays after that). */
  enterRoom(room: string, user: UserRef): Promise<void> {
    const now = Date.now();
    this.local.enterRoom(room, user);
    this.members.set(user.id, { room, nick: user.nick, lastActive: now, synced: now });
    const cmd = this.link.cmd;
    if (cmd !== undefined) {
      const p = cmd.pipeline().sadd(this.keys.rooms, room);
      p.hset(this.keys.room(room), user.id, memberValue(this.node, now, user.nick));
      execChecked(p).catch((err: unknown) => this.failed("room entry", err));
    }
    return this.channels.enter(room);
  }

  leaveRoom(room: string, id: string): void {
    this.local.leaveRoom(room, id);
    this.members.delete(id);
    this.channels.leave(room);
    const cmd = this.link.cmd;
    if (cmd === undefined) return;
    removeMember(cmd, this.keys, room, id).catch((err: unknown) => this.failed("room exit", err));
  }

  async rooms(): Promise<RoomListing[]> {
    return this.shared(
      "rooms",
      (cmd) => listRooms(this.parts, cmd),
      () => this.local.rooms(),
    );
  }

  async who(room: string): Promise<MemberListing[]> {
    return this.shared(
      "who",
      (cmd) => listMembers(this.parts, cmd, room),
      () => this.local.who(room),
    );
  }

  async history(room: string): Promise<HistoryEvent[]> {
    if (this.historySize === 0) return [];
    const size = this.historySize;
    return this.shared(
      "history",
      (cmd) => readHistory(this.parts, cmd, room, size),
      () => this.local.history(room),
    );
  }

  /** Asks Redis while it is up; this node's own state while it is not, or if the question fails. */
  private async shared<T>(what: string, ask: (cmd: Redis) => Promise<T>, local: () => T): Promise<T> {
    const cmd = this.link.cmd;
    if (cmd === undefined) return local();
    try {
      return await ask(cmd);
    } catch (err) {
      this.failed(what, err);
      return local();
    }
  }
}
