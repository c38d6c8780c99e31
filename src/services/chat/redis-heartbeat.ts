// A node's life in Redis: every third of the TTL (on the shared ticker) it refreshes
// its heartbeat key and its users' nick claims, and removes the users of nodes whose
// heartbeat expired (crashed); after an outage it registers its nicks and members
// again, then tells the other nodes about its users who left meanwhile.
import type { Redis } from "ioredis";
import { everyTick, type TickTask } from "../../core/ticker.js";
import type { ChatEvent } from "./events.js";
import type { NickClaims } from "./nick-claims.js";
import { execChecked, forEachMember, type RedisNode, removeMember } from "./redis-node.js";
import { memberValue, RELEASE_NICK } from "./redis-wire.js";

export interface HeartbeatHooks {
  /** Publishes an event to local users and every node (a crashed node's users leaving). */
  publish(event: ChatEvent): void;
  /** Publishes an event to the other nodes only (local users saw it when it happened). */
  publishRemote(cmd: Redis, event: ChatEvent): void;
  /** Hands a nick this node lost to the hub (registered through onNickLost). */
  nickLost(id: string, nick: string): void;
  /** The other nodes alive at this heartbeat. */
  peers(alive: string[]): void;
  /** After an outage, before registering again: subscribes this node's channels again. */
  resubscribe(): Promise<void>;
  /** After an outage, once up: publishes the outbox; returns the departures it announced (`room\nid`). */
  flush(cmd: Redis): Promise<Set<string>>;
}

export class Heartbeat {
  private task: TickTask | undefined;
  private recovering = false;
  /** Nicks lost while re-claiming after an outage: the hub renames their users once the transport is up. */
  private readonly lostWhileRecovering: Array<[string, string]> = [];

  constructor(
    private readonly node: RedisNode,
    private readonly claims: NickClaims,
    private readonly ttlMs: number,
    private readonly hooks: HeartbeatHooks,
  ) {}

  /** Starts the periodic refresh (after the first beat, which `open` runs). */
  start(): void {
    this.task ??= everyTick(Math.floor(this.ttlMs / 3), () => this.tick());
  }

  stop(): void {
    this.task?.stop();
    this.task = undefined;
  }

  /** A nick of this node's user was taken over by another node. */
  lost(id: string, nick: string): void {
    // Renamed now, the user's guest nick would be claimed on this node only.
    if (this.recovering) this.lostWhileRecovering.push([id, nick]);
    else this.hooks.nickLost(id, nick);
  }

  private tick(): void {
    // A failed re-registration after an outage is retried here.
    if (this.node.link.health === "degraded") this.node.link.changed();
    else void this.beat();
  }

  /**
   * Refreshes this node's heartbeat and nick claims, and cleans up after nodes whose
   * heartbeat expired. With `full` (after an outage), also re-registers room members
   * and throws instead of degrading.
   */
  async beat(full = false): Promise<void> {
    const { link, keys, id: node } = this.node;
    const cmd = link.anyCmd;
    if (cmd === undefined || (!full && !link.up && link.health !== "starting")) return;
    const ttl = String(this.ttlMs);
    const p = cmd.pipeline();
    p.set(keys.node(node), "1", "PX", ttl);
    p.sadd(keys.nodes, node);
    const settle = this.claims.refresh(p, full);
    if (full) {
      const now = Date.now();
      for (const [id, m] of this.node.members) {
        p.sadd(keys.rooms, m.room);
        p.hset(keys.room(m.room), id, memberValue(node, Math.min(now, m.lastActive), m.nick));
      }
    }
    try {
      settle(await execChecked(p));
      if (!full) await this.reapDeadNodes(cmd);
    } catch (err) {
      if (full) throw err;
      link.failed("heartbeat", err);
    }
  }

  /** Redis is back (possibly empty after a restart): claim our nicks and rooms again, then say so. */
  async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      // Subscribed before the heartbeat says this node is back: a peer waiting for it publishes then.
      await this.hooks.resubscribe();
      await this.beat(true);
      if (!this.node.link.recovered()) return;
      const cmd = this.node.link.anyCmd!;
      await this.dropStaleMembers(cmd, await this.hooks.flush(cmd));
    } catch (err) {
      this.node.logger.warn({ err }, "Redis back but re-registering failed; will retry");
    } finally {
      this.recovering = false;
      for (const [id, nick] of this.lostWhileRecovering.splice(0)) this.hooks.nickLost(id, nick);
    }
  }

  /** Removes this node's users who left while Redis was unreachable (if Redis kept them), telling the other nodes. */
  private async dropStaleMembers(cmd: Redis, announced: Set<string>): Promise<void> {
    const { keys, id: node, members } = this.node;
    await forEachMember(cmd, keys, async (room, id, m) => {
      if (m.node !== node || members.get(id)?.room === room) return;
      const removed = await removeMember(cmd, keys, room, id);
      // Local users saw this departure when it happened; only the other nodes need it,
      // unless the outbox already carried it.
      const reason = "left during a Redis outage";
      if (removed === 1 && !announced.has(`${room}\n${id}`))
        this.hooks.publishRemote(cmd, { kind: "leave", room, user: { id, nick: m.nick }, reason });
    });
  }

  /** Removes the members of nodes whose heartbeat expired (crashed), frees their nicks, tells their rooms. */
  private async reapDeadNodes(cmd: Redis): Promise<void> {
    const { keys, id: self, logger } = this.node;
    const others = (await cmd.smembers(keys.nodes)).filter((n) => n !== self);
    if (others.length === 0) {
      this.hooks.peers([]);
      return;
    }
    const beats = await cmd.mget(others.map((n) => keys.node(n)));
    const dead = others.filter((_, i) => beats[i] === null);
    this.hooks.peers(others.filter((_, i) => beats[i] !== null));
    // Not while starting: departures announced before this node publishes would be lost.
    if (!this.node.link.up) return;
    for (const node of dead) {
      // SREM answers 1 to exactly one survivor: only it announces the departures.
      if ((await cmd.srem(keys.nodes, node)) !== 1) continue;
      logger.warn({ dead: node }, "a chat server stopped refreshing its heartbeat: removing its users");
      await forEachMember(cmd, keys, async (room, id, m) => {
        if (m.node !== node) return;
        // Free the nick before announcing the departure: whoever reads "left" may take it at once.
        await cmd.eval(RELEASE_NICK, 1, keys.nick(m.nick), id);
        const removed = await removeMember(cmd, keys, room, id);
        if (removed === 1)
          this.hooks.publish({ kind: "leave", room, user: { id, nick: m.nick }, reason: "server lost" });
      });
    }
  }
}
