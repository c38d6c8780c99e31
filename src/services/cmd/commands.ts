// The commands of the command protocol and the reply each one sends.
// One request line in, one reply line out (QUIT also ends the connection).
import { reverseGraphemes } from "./graphemes.js";

export const COMMAND_NAMES = ["ECHO", "UPPER", "LOWER", "REVERSE", "TIME", "PING", "HELP", "QUIT"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Where a reply goes: a Connection (its send frames and batches it). */
export interface ReplySink {
  send(body: Buffer | string, prefix?: Buffer): void;
}

const ECHO_PREFIX = Buffer.from("ECHO: ");
const PONG = Buffer.from("PONG");
const BYE = Buffer.from("BYE");
export const HELP_TEXT =
  "Commands: ECHO <text>, UPPER <text>, LOWER <text>, REVERSE <text>, TIME, PING, HELP, QUIT";
const HELP = Buffer.from(HELP_TEXT);

const NEEDS_TEXT = Object.fromEntries(
  COMMAND_NAMES.map((name) => [name, Buffer.from(`ERROR: ${name} needs text`)]),
) as Record<CommandName, Buffer>;

/**
 * Runs a known command whose text starts at `textStart` in `line`, and sends its reply.
 * Returns true when the connection must close after the reply (QUIT).
 */
export function runCommand(
  name: CommandName,
  line: Buffer,
  textStart: number,
  out: ReplySink,
  now: () => Date = currentTime,
): boolean {
  switch (name) {
    case "PING":
      out.send(PONG);
      return false;
    case "HELP":
      out.send(HELP);
      return false;
    case "QUIT":
      out.send(BYE);
      return true;
    case "TIME":
      // toISOString is RFC 3339 in UTC ("Z"), with milliseconds.
      out.send(now().toISOString());
      return false;
    default:
      break;
  }
  if (textStart >= line.length) {
    out.send(NEEDS_TEXT[name]);
    return false;
  }
  switch (name) {
    case "ECHO":
      // The bytes go back as they came: a view, no decoding, no copy.
      out.send(textStart === 0 ? line : line.subarray(textStart), ECHO_PREFIX);
      break;
    case "UPPER":
      out.send(line.toString("utf8", textStart).toUpperCase());
      break;
    case "LOWER":
      out.send(line.toString("utf8", textStart).toLowerCase());
      break;
    case "REVERSE":
      out.send(reverseGraphemes(line.toString("utf8", textStart)));
      break;
  }
  return false;
}

function currentTime(): Date {
  return new Date();
}

export function unknownCommand(line: Buffer, wordStart: number, wordEnd: number): string {
  return `ERROR: Unknown command "${line.toString("utf8", wordStart, wordEnd)}"`;
}
