// Events between nodes: a node's events (with the state they change: the sender's
// activity, the room's history) go out in one pipeline on the command connection,
// which keeps each sender's events in order; a room's events on the room's channel,
// a private message on the channel of its recipient's instance. Other nodes' events
// arrive on the subscription, checked field by field, and go to the local users.
import type { Redis } from "ioredis";
import { WarnThrottle } from "../../core/warn-throttle.js";
import { type ChatEvent, isHistoryEvent } from "./events.js";
import { execChecked, type RedisNode } from "./redis-node.js";
import { decodeEnvelope, encodeEnvelope, memberValue, PUBLISH_PRIVATE } from "./redis-wire.js";
import type { EventSink } from "./transport.js";

/** Fire-and-forget publishes in flight before the sender is made to wait (bounds ioredis' queue). */
const MAX_IN_FLIGHT = 10_000;
const ACTIVITY_RESOLUTION_MS = 1000;
/** At most one log line per 10 s about malformed events: a bad publisher must not flood the log. */
const MALFORMED_LOG_INTERVAL_MS = 10_000;

export class RedisDelivery {
  /** Where other nodes' events go (the local users, through the hub). */
  sink: EventSink | undefined;
  /** Events this node sent to Redis, and event messages it received from Redis (metrics). */
  published = 0;
  received = 0;
  /** Called with the id of each other node heard from (the outbox waits for them after an outage). */
  heard: (node: string) => void = () => {};
  /** Room channels are published with SPUBLISH (set at connection). */
  sharded = false;
  private inFlight = 0;
  private malformed = 0;
  private readonly warnings: WarnThrottle;

  constructor(
    private readonly node: RedisNode,
    private readonly historySize: number,
  ) {
    this.warnings = new WarnThrottle(node.logger, MALFORMED_LOG_INTERVAL_MS);
  }

  /** A message on the events channel. */
  receive(message: string): void {
    this.received++;
    const envelope = decodeEnvelope(message);
    if (envelope === undefined) {
      this.malformed++;
      this.warnings.warn(
        "malformed",
        { bytes: message.length, ignoredSoFar: this.malformed },
        "ignoring a malformed chat event from Redis",
      );
      return;
    }
    // Our own events were delivered locally when published.
    if (envelope.node === this.node.id) return;
    this.heard(envelope.node);
    this.sink?.(envelope.event);
  }

  /**
   * Sends the event and its state changes to Redis. Does not wait for Redis unless
   * many publishes are in flight; a failure degrades the transport. `late` (ms): the
   * event was accepted while Redis was unreachable; receivers see it marked.
   */
  publishRemote(cmd: Redis, event: ChatEvent, late?: number): void | Promise<void> {
    const { keys, id: node, members, link } = this.node;
    const p = cmd.pipeline();
    if (isHistoryEvent(event)) {
      const m = members.get(event.from.id);
      if (m !== undefined) {
        m.lastActive = event.ts;
        if (event.ts - m.synced >= ACTIVITY_RESOLUTION_MS) {
          m.synced = event.ts;
          p.hset(keys.room(m.room), event.from.id, memberValue(node, event.ts, m.nick));
        }
      }
      if (this.historySize > 0) {
        const key = keys.history(event.room);
        p.lpush(key, JSON.stringify(event));
        p.ltrim(key, 0, this.historySize - 1);
      }
    } else if (event.kind === "rename") {
      const m = members.get(event.user.id);
      if (m !== undefined) p.hset(keys.room(m.room), event.user.id, memberValue(node, m.lastActive, m.nick));
    }
    const envelope = encodeEnvelope(node, late === undefined ? event : { ...event, late });
    if (event.kind === "private")
      p.eval(PUBLISH_PRIVATE, 1, keys.nick(event.to), keys.nodeChannel(""), envelope);
    else if (this.sharded) p.spublish(keys.roomChannel(event.room), envelope);
    else p.publish(keys.roomChannel(event.room), envelope);
    this.inFlight++;
    const done = execChecked(p).then(
      () => {
        this.inFlight--;
        this.published++;
      },
      (err: unknown) => {
        this.inFlight--;
        link.failed("publish", err);
      },
    );
    if (this.inFlight > MAX_IN_FLIGHT) return done;
  }
}
