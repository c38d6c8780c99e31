// Exponential backoff with jitter for reconnect attempts: 250 ms, 500 ms, 1 s, … up to a cap.

export interface BackoffOptions {
  /** The first delay; each next one doubles (with jitter). Default 250 ms. */
  initialMs?: number;
  /** The longest delay. Default 8 s. */
  maxMs?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 8_000;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt: doubles each time, ±20 % jitter so clients do not retry in step. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.attempt = 0;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
