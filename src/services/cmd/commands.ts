// The commands of the command protocol and the reply each one produces.
// One request line in, one reply line out (QUIT also ends the connection).
import { reverseGraphemes } from "./graphemes.js";

export const COMMAND_NAMES = ["ECHO", "UPPER", "LOWER", "REVERSE", "TIME", "PING", "HELP", "QUIT"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** What a command asks the connection to do: reply, and for QUIT, close after the reply. */
export interface Reply {
  /** The reply line; `prefix` goes before it, sent as separate bytes (no concatenation). */
  body: Buffer | string;
  prefix?: Buffer;
  close?: true;
}

export const ECHO_PREFIX = Buffer.from("ECHO: ");
const PONG: Reply = { body: Buffer.from("PONG") };
const BYE: Reply = { body: Buffer.from("BYE"), close: true };
export const HELP_TEXT =
  "Commands: ECHO <text>, UPPER <text>, LOWER <text>, REVERSE <text>, TIME, PING, HELP, QUIT";
const HELP: Reply = { body: Buffer.from(HELP_TEXT) };

const NEEDS_TEXT: Record<CommandName, Reply> = Object.fromEntries(
  COMMAND_NAMES.map((name) => [name, { body: Buffer.from(`ERROR: ${name} needs text`) }]),
) as Record<CommandName, Reply>;

/** Runs a known command on its text (a view into the request bytes). */
export function runCommand(name: CommandName, text: Buffer, now: () => Date = () => new Date()): Reply {
  switch (name) {
    case "PING":
      return PONG;
    case "HELP":
      return HELP;
    case "QUIT":
      return BYE;
    case "TIME":
      // toISOString is RFC 3339 in UTC ("Z"), with milliseconds.
      return { body: now().toISOString() };
    default:
      break;
  }
  if (text.length === 0) return NEEDS_TEXT[name];
  switch (name) {
    case "ECHO":
      // The bytes go back as they came: no decoding, no copy.
      return { body: text, prefix: ECHO_PREFIX };
    case "UPPER":
      return { body: text.toString("utf8").toUpperCase() };
    case "LOWER":
      return { body: text.toString("utf8").toLowerCase() };
    case "REVERSE":
      return { body: reverseGraphemes(text.toString("utf8")) };
  }
}

export function unknownCommand(word: Buffer): Reply {
  return { body: `ERROR: Unknown command "${word.toString("utf8")}"` };
}
