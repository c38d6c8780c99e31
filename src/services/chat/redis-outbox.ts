// Events a node accepted while Redis was unreachable (its local users saw them at
// once): kept in order in a bounded outbox and published, marked late, after
// recovery, once the servers known before the outage are back on Redis (a server
// still reconnecting would miss them: pub/sub keeps nothing). Events beyond the
// bound are dropped, counted and logged (ERR_REDIS_OUTBOX_FULL).
import type { Redis } from "ioredis";
import { WarnThrottle } from "../../core/warn-throttle.js";
import type { ChatEvent } from "./events.js";
import type { RedisNode } from "./redis-node.js";

const DROP_LOG_INTERVAL_MS = 10_000;
const PEER_POLL_MS = 100;

interface Held {
  readonly event: ChatEvent;
  readonly at: number;
  /** Accepted while Redis was unreachable (not just queued behind such events, for order, after recovery). */
  readonly late: boolean;
}

export class Outbox {
  /** Events dropped because the outbox was full, and events published late (metrics). */
  dropped = 0;
  sentLate = 0;
  /** Other nodes alive at the last heartbeat or heard from since: after an outage the outbox waits for them. */
  readonly peers = new Set<string>();
  private readonly held: Held[] = [];
  private readonly warnings: WarnThrottle;

  constructor(
    private readonly node: RedisNode,
    private readonly limit: number,
    /** How long to wait for a known server to come back before publishing without it. */
    private readonly waitMs: number,
  ) {
    this.warnings = new WarnThrottle(node.logger, DROP_LOG_INTERVAL_MS);
  }

  /** Events are waiting: later ones queue behind them, to keep each sender's order. */
  get holding(): boolean {
    return this.held.length > 0;
  }

  get size(): number {
    return this.held.length;
  }

  /** Keeps `event`; `late`: accepted while Redis is unreachable (receivers see it marked). */
  add(event: ChatEvent, late: boolean): void {
    if (this.held.length < this.limit) {
      this.held.push({ event, at: Date.now(), late });
      return;
    }
    this.dropped++;
    this.warnings.warn(
      "outbox full",
      { code: "ERR_REDIS_OUTBOX_FULL", limit: this.limit, droppedSoFar: this.dropped },
      "Redis outbox full: an event accepted during the outage will not reach other servers",
    );
  }

  /**
   * After recovery: waits (bounded) for the known servers' heartbeats, then publishes
   * everything held, in order, in one go (nothing can slip in between). Returns the
   * departures it carried (`room\nid`), which need no second announcement. Keeps the
   * events if Redis fails again meanwhile.
   */
  async flush(
    cmd: Redis,
    publish: (event: ChatEvent, late: number | undefined) => void,
  ): Promise<Set<string>> {
    const departed = new Set<string>();
    if (this.held.length === 0) return departed;
    await this.waitForPeers(cmd);
    if (!this.node.link.up) return departed;
    const now = Date.now();
    const held = this.held.splice(0);
    let late = 0;
    for (const e of held) {
      if (e.event.kind === "leave") departed.add(`${e.event.room}\n${e.event.user.id}`);
      publish(e.event, e.late ? now - e.at : undefined);
      if (e.late) late++;
    }
    this.sentLate += late;
    this.node.logger.info(
      { late, queued: held.length - late },
      "Redis outbox: events held during the outage sent",
    );
    return departed;
  }

  private async waitForPeers(cmd: Redis): Promise<void> {
    const { keys, link } = this.node;
    if (this.peers.size === 0) return;
    const beats = [...this.peers].map((n) => keys.node(n));
    const deadline = Date.now() + this.waitMs;
    while (link.up && Date.now() < deadline) {
      try {
        if ((await cmd.mget(beats)).every((b) => b !== null)) return;
      } catch {
        return; // Redis failed again: the caller sees the link down
      }
      await new Promise((resolve) => setTimeout(resolve, PEER_POLL_MS));
    }
  }
}
