// `echoplex client` as a library call: connect (with optional retries), then run the
// interactive session at a terminal or the pipe session otherwise.
import { formatAddress } from "../core/address.js";
import type { EchoplexError } from "../errors.js";
import { Backoff } from "./backoff.js";
import { runPipeSession } from "./pipe-session.js";
import { connectWithRetry } from "./reconnect.js";
import type { SessionOptions } from "./session-options.js";
import { runTtySession } from "./tty-session.js";

export type { SessionOptions } from "./session-options.js";

export const DEFAULT_WAIT_MS = 5_000;
export const DEFAULT_CLIENT_MAX_LINE = 1024 * 1024;

/** Runs a client session; resolves with the exit code, rejects with a typed error. */
export async function runClientSession(options: SessionOptions): Promise<number> {
  const where = formatAddress(options.host, options.port);
  const backoff = new Backoff();
  // Retry notices go to stderr before the session starts, and above the prompt during it.
  const connect = (notify: (text: string) => void) =>
    connectWithRetry(
      options,
      options.retries === undefined
        ? undefined
        : {
            retries: options.retries,
            backoff,
            onRetry: (err: EchoplexError, delayMs: number, attempt: number) =>
              notify(`${err.message}; retrying in ${delayMs} ms (attempt ${attempt})`),
          },
    );
  const socket = await connect(options.notice);
  if (!options.interactive) return runPipeSession(socket, options);
  options.notice(`connected to ${where} (${options.framing}); /quit or Ctrl-D to leave`);
  return runTtySession(socket, options, options.retries === undefined ? undefined : connect);
}
