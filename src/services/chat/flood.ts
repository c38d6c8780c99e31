// Per-connection flood control: a token bucket (rate per second, burst) decides
// whether a message passes; dropped messages add strikes that decay at one per
// second, and too many strikes mean sustained flooding (the peer is disconnected).

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

export class TokenBucket {
  private tokens: number;
  private strikes = 0;
  private last: number;
  /** True once a drop was announced; reset when a message passes again. */
  warned = false;

  constructor(
    private readonly limits: FloodLimits,
    now: number,
  ) {
    this.tokens = limits.burst;
    this.last = now;
  }

  /** Accounts one message at time `now` (ms). */
  take(now: number): FloodVerdict {
    const { rate, burst, disconnectAfter } = this.limits;
    if (rate <= 0) return "pass";
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(burst, this.tokens + elapsed * rate);
    this.strikes = Math.max(0, this.strikes - elapsed);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.warned = false;
      return "pass";
    }
    this.strikes += 1;
    return disconnectAfter > 0 && this.strikes > disconnectAfter ? "disconnect" : "drop";
  }
}
