// What a client session is given: the connection, the framing, the streams, the mode.
// Its own module so that the pipe and terminal sessions need not import the session
// that runs them (no import cycle).
import type { Readable, Writable } from "node:stream";
import type { ClientFraming } from "./message-framing.js";
import type { LinkOptions } from "./open-link.js";

export interface SessionOptions extends LinkOptions {
  /** Stream doors: `lines` or `length`. WebSocket and UDP carry whole messages: `messages` (`lines` is taken as that). */
  framing: ClientFraming;
  /** Longest reply (and input line) accepted, in bytes. */
  maxLineBytes: number;
  /** After the input ends (pipe, Ctrl-D), how long to wait for the server to close, in ms. */
  waitMs: number;
  /** Retry connecting (and, at a terminal, reconnect after a lost connection) this many times; undefined: never. */
  retries?: number;
  input: Readable;
  output: Writable;
  /** Interactive (prompt, history, `< ` replies) or pipe mode. */
  interactive: boolean;
  /** Notices for the user (connection state); never mixed into the replies on stdout. */
  notice: (text: string) => void;
}
