// The nick claims of one node's users in Redis. They expire with the node, so the
// node refreshes them; and while Redis is unreachable each node checks nicks among
// its own users only, so two nodes can give the same nick to two users. When Redis
// is back, every node claims its users' nicks again in contest mode: the earlier claim
// keeps the nick, ties going to the smaller user id. The Lua script decides, atomically,
// so every node reaches the same verdict whichever comes back first; a node that takes a
// nick over tells the holder's node on the nicks channel, and a node whose user lost
// hands the user to the chat hub, which renames them to a guest.
import type { ChainableCommander, Redis } from "ioredis";
import { nickKey } from "./names.js";
import { CLAIM_NICK, nickValue, RELEASE_NICK, type RedisKeys } from "./redis-wire.js";

/** User `id` of this node must give up `nick`: another node's user keeps it. */
export type NickLostHandler = (id: string, nick: string) => void;

interface Claim {
  readonly nick: string;
  /** When the user took it (ms, this node's clock): the earlier claim wins a conflict. */
  readonly since: number;
  /** False while Redis has not accepted it (taken during an outage): refreshed in contest mode until it has. */
  confirmed: boolean;
}

/** Nicks given up during an outage, released in Redis on recovery; beyond this many they just expire. */
const MAX_STALE = 10_000;

type Results = Array<[Error | null, unknown]>;

export class NickClaims {
  /** User id → claim. */
  private readonly claims = new Map<string, Claim>();
  /** [user id, nick] given up while Redis was unreachable, which Redis may still hold for them. */
  private stale: Array<[string, string]> = [];

  constructor(
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
    private readonly lost: NickLostHandler,
  ) {}

  nick(id: string): string | undefined {
    return this.claims.get(id)?.nick;
  }

  /** Claims `nick` for `id` in Redis, releasing the user's previous nick; false when another user holds it. */
  async claim(cmd: Redis, id: string, nick: string): Promise<boolean> {
    const since = this.sinceFor(id, nick);
    const key = this.keys.nick(nick);
    const previous = this.claims.get(id);
    const old = previous === undefined ? key : this.keys.nick(previous.nick);
    const ttl = String(this.ttlMs);
    if ((await cmd.eval(CLAIM_NICK, 2, key, old, id, nickValue(id, nick, since), ttl)) !== 1) return false;
    this.claims.set(id, { nick, since, confirmed: true });
    return true;
  }

  /** Records a claim Redis has not accepted (taken while it was unreachable). */
  claimLocally(id: string, nick: string): void {
    const previous = this.claims.get(id);
    if (previous !== undefined && nickKey(previous.nick) !== nickKey(nick))
      this.releaseLater(id, previous.nick);
    this.claims.set(id, { nick, since: this.sinceFor(id, nick), confirmed: false });
  }

  /** Forgets `id`'s claim; returns the nick, for the caller to release in Redis. */
  forget(id: string): string | undefined {
    const nick = this.claims.get(id)?.nick;
    this.claims.delete(id);
    return nick;
  }

  releaseLater(id: string, nick: string): void {
    if (this.stale.length < MAX_STALE) this.stale.push([id, nick]);
  }

  /**
   * Queues on `p` a refresh of every claim: contested (the earlier claim wins) after an
   * outage (`recovering`, which also releases the nicks given up during it) and for claims
   * Redis has not accepted yet; plain otherwise (whoever holds a nick now keeps it).
   * Returns the reader of the pipeline's results, which hands lost nicks to the handler.
   */
  refresh(p: ChainableCommander, recovering: boolean): (results: Results) => void {
    if (recovering) {
      // Before the claims: a user may have taken back, during the outage, a nick they had given up.
      for (const [id, nick] of this.stale) {
        const current = this.claims.get(id)?.nick;
        if (current === undefined || nickKey(current) !== nickKey(nick))
          p.eval(RELEASE_NICK, 1, this.keys.nick(nick), id);
      }
      this.stale = [];
    }
    const ttl = String(this.ttlMs);
    const start = p.length;
    const refreshed = [...this.claims].map(([id, claim]) => {
      const key = this.keys.nick(claim.nick);
      const value = nickValue(id, claim.nick, claim.since);
      if (recovering || !claim.confirmed) {
        p.eval(CLAIM_NICK, 2, key, key, id, value, ttl, claim.since, this.keys.nickChannel, claim.nick);
      } else {
        p.eval(CLAIM_NICK, 2, key, key, id, value, ttl);
      }
      return [id, claim] as const;
    });
    return (results) => {
      refreshed.forEach(([id, claim], i) => {
        const [err, answer] = results[start + i] ?? [null, undefined];
        if (err !== null || this.claims.get(id) !== claim) return;
        if (answer === 0) this.lose(id, claim.nick);
        else claim.confirmed = true;
      });
    };
  }

  /** A message on the nicks channel: another node took `nick` over from user `id`. */
  taken(message: string): void {
    const nl = message.indexOf("\n");
    if (nl <= 0) return;
    const id = message.slice(0, nl);
    const claim = this.claims.get(id);
    if (claim !== undefined && nickKey(claim.nick) === nickKey(message.slice(nl + 1)))
      this.lose(id, claim.nick);
  }

  private lose(id: string, nick: string): void {
    this.claims.delete(id);
    this.lost(id, nick);
  }

  /** A change of case only (alice → Alice) keeps the claim's age. */
  private sinceFor(id: string, nick: string): number {
    const previous = this.claims.get(id);
    return previous !== undefined && nickKey(previous.nick) === nickKey(nick) ? previous.since : Date.now();
  }
}
