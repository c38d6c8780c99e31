// Per-connection message rate limit: a token bucket refilled once per read (one clock
// read per chunk, none per message) and spent once per message.
import { TokenBucket } from "./token-bucket.js";

/**
 * What happens to one message: it passes; it is the first dropped in an episode of
 * excess (tell the peer once); it is dropped quietly; or the excess has lasted past
 * the grace period (disconnect).
 */
export type RateVerdict = "pass" | "first-drop" | "drop" | "disconnect";

/** Drops further apart than this end an episode of excess. */
const EPISODE_GAP_MS = 1000;

export class RateLimiter {
  private readonly bucket: TokenBucket;
  /** The time of the current read, set by refill(). */
  private now: number;
  /** When the current episode of excess began (0: none). */
  private overSince = 0;
  private lastDrop = 0;
  /** Messages dropped on this connection so far. */
  dropped = 0;

  constructor(
    /** Messages per second on average. */
    readonly rate: number,
    /** Messages allowed at once above the average (the bucket's size). */
    readonly burst: number,
    /** Continuous excess for this long disconnects the peer. */
    readonly graceMs: number,
    now: number,
  ) {
    this.bucket = new TokenBucket(rate, burst, now);
    this.now = now;
  }

  /** Adds the tokens earned since the last read; call once per read, before take(). */
  refill(now: number): void {
    this.bucket.refill(now);
    this.now = now;
  }

  /** Accounts one message. */
  take(): RateVerdict {
    if (this.bucket.tryTake()) return "pass";
    this.dropped++;
    const now = this.now;
    if (this.overSince === 0 || now - this.lastDrop > EPISODE_GAP_MS) {
      this.overSince = now;
      this.lastDrop = now;
      return "first-drop";
    }
    this.lastDrop = now;
    return now - this.overSince >= this.graceMs ? "disconnect" : "drop";
  }

  /** How long the current episode of excess has lasted, in ms. */
  get excessMs(): number {
    return this.overSince === 0 ? 0 : this.lastDrop - this.overSince;
  }
}
