// Which event channels a node listens on: a room's channel while the room has local
// members (sharded pub/sub, SSUBSCRIBE, where Redis has it; classic SUBSCRIBE
// otherwise or when forced), and one private channel per chat instance whose users
// are here. A user's room entry waits for the subscription's confirmation, so what
// is said after it is not missed; after an outage every wanted channel is subscribed again.
import type { Redis } from "ioredis";
import type { RedisLink } from "./redis-link.js";
import type { PubSubMode } from "./redis-settings.js";
import type { RedisKeys } from "./redis-wire.js";

/** How long a room entry waits for its subscription before going on (Redis is then treated as failed). */
const SUBSCRIBE_WAIT_MS = 2000;

/** Whether this Redis knows SSUBSCRIBE (COMMAND INFO answers nil for an unknown command). */
export async function hasShardedPubSub(cmd: Redis): Promise<boolean> {
  try {
    const info = await cmd.call("COMMAND", "INFO", "SSUBSCRIBE");
    return Array.isArray(info) && Array.isArray(info[0]);
  } catch {
    return false;
  }
}

export class RoomChannels {
  /** Set at connection: room channels use SSUBSCRIBE/SPUBLISH. */
  sharded = false;
  /** Local members per room: the room's channel is subscribed while this is above 0. */
  private readonly members = new Map<string, number>();
  /** Each room's subscription request, confirmed or not (joiners wait for it). */
  private readonly pending = new Map<string, Promise<void>>();
  /** Rooms whose unsubscription failed (Redis down): retried after recovery. */
  private readonly stale = new Set<string>();
  private readonly instances = new Set<string>();

  constructor(
    private readonly keys: RedisKeys,
    private readonly link: RedisLink,
    readonly mode: PubSubMode,
  ) {}

  /** Rooms whose channel this node listens on (a metric). */
  get roomCount(): number {
    return this.members.size;
  }

  /** A local user enters `room`: subscribes its channel with its first local member; resolves once confirmed. */
  async enter(room: string): Promise<void> {
    const n = this.members.get(room) ?? 0;
    this.members.set(room, n + 1);
    if (n === 0) {
      this.stale.delete(room);
      this.pending.set(room, this.subscribe([this.keys.roomChannel(room)], true));
    }
    await this.pending.get(room);
  }

  /** A local user left `room`: unsubscribes its channel with its last local member. */
  leave(room: string): void {
    const n = this.members.get(room) ?? 0;
    if (n > 1) {
      this.members.set(room, n - 1);
      return;
    }
    this.members.delete(room);
    this.pending.delete(room);
    const sub = this.link.subscriber;
    const channel = this.keys.roomChannel(room);
    const done =
      sub === undefined ? undefined : this.sharded ? sub.sunsubscribe(channel) : sub.unsubscribe(channel);
    if (done === undefined) this.stale.add(room);
    else
      done.catch(() => {
        if (!this.members.has(room)) this.stale.add(room);
      });
  }

  /** A user of chat instance `instance` is here: listen on its private channel (once per instance). */
  async instance(instance: string): Promise<void> {
    if (this.instances.has(instance)) return;
    this.instances.add(instance);
    await this.subscribe([this.keys.nodeChannel(instance)], false);
  }

  /** After an outage: subscribes every wanted channel again and drops the ones left behind. */
  async resubscribe(): Promise<void> {
    const sub = this.link.subscriber;
    if (sub === undefined) return;
    const rooms = [...this.members.keys()].map((room) => this.keys.roomChannel(room));
    const stale = [...this.stale].map((room) => this.keys.roomChannel(room));
    this.stale.clear();
    const nodes = [...this.instances].map((i) => this.keys.nodeChannel(i));
    const work: Array<Promise<unknown>> = rooms.map((ch) =>
      this.sharded ? sub.ssubscribe(ch) : sub.subscribe(ch),
    );
    work.push(...stale.map((ch) => (this.sharded ? sub.sunsubscribe(ch) : sub.unsubscribe(ch))));
    if (nodes.length > 0) work.push(sub.subscribe(...nodes));
    await Promise.all(work);
  }

  /**
   * Subscribes `channels` (room channels sharded when Redis has it). Never rejects:
   * while Redis is down it does not wait (recovery subscribes again), and a
   * subscription unconfirmed after a while degrades the transport.
   */
  private async subscribe(channels: string[], room: boolean): Promise<void> {
    const sub = this.link.subscriber;
    if (sub === undefined) return;
    const request = room && this.sharded ? sub.ssubscribe(...channels) : sub.subscribe(...channels);
    const settled = request.then(
      () => true,
      () => false,
    );
    if (!this.link.up) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), SUBSCRIBE_WAIT_MS);
    });
    const ok = await Promise.race([settled, late]);
    clearTimeout(timer);
    if (!ok) this.link.failed("subscribe", new Error(`no confirmation of ${channels.join(" ")}`));
  }
}
