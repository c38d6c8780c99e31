// The one token bucket: `rate` tokens a second, at most `burst` saved up. The engine's
// --rate-limit and chat's flood control put their own policies (grace period,
// decaying strikes) on top of it.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    /** Tokens earned per second. */
    readonly rate: number,
    /** The most tokens held at once: what may be spent in one burst. */
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Adds the tokens earned since the last refill; returns the ms that passed (0 if none). */
  refill(now: number): number {
    const elapsed = now - this.last;
    if (elapsed <= 0) return 0;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    this.last = now;
    return elapsed;
  }

  /** Spends one token if there is one. */
  tryTake(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
