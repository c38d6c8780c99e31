// Per-connection flood control: a token bucket (rate per second, burst) decides
// whether a message passes; dropped messages add strikes that decay at one per
// second, and too many strikes mean sustained flooding (the peer is disconnected).
import { TokenBucket } from "../../core/token-bucket.js";

export interface FloodLimits {
  /** Messages per second allowed on average (0: no flood control). */
  rate: number;
  /** Messages allowed in a burst above the rate. */
  burst: number;
  /** Dropped messages (decaying at 1/s) after which the peer is disconnected (0: never). */
  disconnectAfter: number;
}

export const DEFAULT_FLOOD_LIMITS: Readonly<FloodLimits> = Object.freeze({
  rate: 5,
  burst: 10,
  disconnectAfter: 20,
});

/** What to do with one message. */
export type FloodVerdict = "pass" | "drop" | "disconnect";

export class FloodControl {
  private readonly bucket: TokenBucket;
  private strikes = 0;
  /** True once a drop was announced; reset when a message passes again. */
  warned = false;

  constructor(
    private readonly limits: FloodLimits,
    now: number,
  ) {
    this.bucket = new TokenBucket(limits.rate, limits.burst, now);
  }

  /** Accounts one message at time `now` (ms). */
  take(now: number): FloodVerdict {
    const { rate, disconnectAfter } = this.limits;
    if (rate <= 0) return "pass";
    this.strikes = Math.max(0, this.strikes - this.bucket.refill(now) / 1000);
    if (this.bucket.tryTake()) {
      this.warned = false;
      return "pass";
    }
    this.strikes += 1;
    return disconnectAfter > 0 && this.strikes > disconnectAfter ? "disconnect" : "drop";
  }
}
