// `echoplex client` as a library call: connect (with optional retries), then run the
// interactive session at a terminal or the pipe session otherwise.
import { EchoplexError } from "../errors.js";
import { Backoff } from "./backoff.js";
import type { ClientFraming } from "./message-framing.js";
import { openLink } from "./open-link.js";
import { runPipeSession } from "./pipe-session.js";
import { withRetry } from "./reconnect.js";
import type { SessionOptions } from "./session-options.js";
import { carriesMessages, targetName } from "./target.js";
import { runTtySession } from "./tty-session.js";

export type { SessionOptions } from "./session-options.js";

export const DEFAULT_WAIT_MS = 5_000;
export const DEFAULT_CLIENT_MAX_LINE = 1024 * 1024;

/** Runs a client session; resolves with the exit code, rejects with a typed error. */
export async function runClientSession(given: SessionOptions): Promise<number> {
  const options = { ...given, framing: sessionFraming(given) };
  const where = targetName(options, options.tls !== undefined);
  const backoff = new Backoff();
  // Retry notices go to stderr before the session starts, and above the prompt during it.
  const connect = (notify: (text: string) => void) =>
    withRetry(
      () => openLink(options),
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

/** The framing a session speaks: a message door has its own, and a byte framing makes no sense there. */
function sessionFraming(options: SessionOptions): ClientFraming {
  const messageDoor = carriesMessages(options.transport);
  if (!messageDoor) {
    if (options.framing === "messages") {
      throw new EchoplexError("ERR_BAD_OPTION", "framing messages is for ws:// and udp:// addresses");
    }
    return options.framing;
  }
  if (options.framing === "length") {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `--framing length is for stream addresses (tcp, tls://, unix:); ${targetName(options)} carries whole messages`,
    );
  }
  return "messages";
}
