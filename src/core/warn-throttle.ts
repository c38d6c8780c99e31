// Warnings that a flood would repeat (a connection storm over the limit, accept
// errors under EMFILE) are logged at most once a second per kind, so a flood of
// peers never becomes a flood of log lines; the metrics still count every one.
import type { Logger } from "./logger.js";

export class WarnThrottle {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** Logs `message` at warn with `fields`, unless a warning of this `key` was logged within the interval. */
  warn(key: string, fields: Record<string, unknown>, message: string = key): void {
    const now = Date.now();
    if (now - (this.last.get(key) ?? Number.NEGATIVE_INFINITY) < this.intervalMs) return;
    this.last.set(key, now);
    this.logger.warn(fields, message);
  }
}
