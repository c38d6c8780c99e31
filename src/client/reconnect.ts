// Connects with retries: on a network failure, wait (exponential backoff) and try
// again, up to a number of attempts. TLS and option errors are not retried.
import type { Socket } from "node:net";
import { EchoplexError } from "../errors.js";
import { Backoff, delay } from "./backoff.js";
import { type ConnectOptions, openSocket } from "./connect.js";

export interface RetryOptions {
  /** Attempts after the first (0: no limit). */
  retries: number;
  backoff?: Backoff;
  /** Told before each wait, for a notice to the user. */
  onRetry?: (err: EchoplexError, delayMs: number, attempt: number) => void;
}

const RETRYABLE = new Set([
  "ERR_CONNECTION_REFUSED",
  "ERR_HOST_UNREACHABLE",
  "ERR_CONNECTION_RESET",
  "ERR_TIMEOUT",
  "ERR_CONNECT_FAILED",
]);

function isRetryable(err: unknown): err is EchoplexError {
  return EchoplexError.is(err) && RETRYABLE.has(err.code);
}

/** openSocket, retried with backoff when `retry` is given; otherwise one attempt. */
export function connectWithRetry(options: ConnectOptions, retry?: RetryOptions): Promise<Socket> {
  return withRetry(() => openSocket(options), retry);
}

/** Runs `open`, retried with backoff on a network failure when `retry` is given; otherwise once. */
export async function withRetry<T>(open: () => Promise<T>, retry?: RetryOptions): Promise<T> {
  const backoff = retry?.backoff ?? new Backoff();
  for (;;) {
    try {
      const link = await open();
      backoff.reset();
      return link;
    } catch (err) {
      if (retry === undefined || !isRetryable(err)) throw err;
      if (retry.retries > 0 && backoff.attempts >= retry.retries) throw err;
      const wait = backoff.next();
      retry.onRetry?.(err, wait, backoff.attempts);
      await delay(wait);
    }
  }
}
