// Splits a command-protocol request into its command word and its text, on bytes:
// the word is matched without decoding, and ECHO's text is forwarded as a view.
import type { CommandName } from "./commands.js";
import { COMMAND_NAMES } from "./commands.js";

const SPACE = 0x20;
const TAB = 0x09;

/** A request line, parsed. `text` is a view into the received bytes (copy it to keep it). */
export type Request =
  | { kind: "empty" }
  | { kind: "command"; name: CommandName; text: Buffer }
  | { kind: "unknown"; word: Buffer };

const EMPTY: Request = { kind: "empty" };
/** Command names as upper-case ASCII bytes, for a case-insensitive compare without a string. */
const NAME_BYTES: ReadonlyArray<readonly [CommandName, Buffer]> = COMMAND_NAMES.map(
  (name) => [name, Buffer.from(name, "latin1")] as const,
);

function isBlank(byte: number | undefined): boolean {
  return byte === SPACE || byte === TAB;
}

/** True when buf[start, end) equals `upper` ignoring ASCII case. */
function equalsIgnoreCase(buf: Buffer, start: number, end: number, upper: Buffer): boolean {
  if (end - start !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    let b = buf[start + i]!;
    if (b >= 0x61 && b <= 0x7a) b -= 0x20;
    if (b !== upper[i]) return false;
  }
  return true;
}

/**
 * Parses one request. Blanks (spaces, tabs) before the word are skipped; the word
 * ends at the first blank; the text is what follows after one run of blanks, kept
 * byte for byte (trailing blanks included). A line of blanks is empty.
 */
export function parseRequest(line: Buffer): Request {
  const size = line.length;
  let start = 0;
  while (start < size && isBlank(line[start])) start++;
  if (start === size) return EMPTY;
  let end = start;
  while (end < size && !isBlank(line[end])) end++;
  let textStart = end;
  while (textStart < size && isBlank(line[textStart])) textStart++;
  for (const [name, bytes] of NAME_BYTES) {
    if (equalsIgnoreCase(line, start, end, bytes)) {
      return { kind: "command", name, text: line.subarray(textStart) };
    }
  }
  return { kind: "unknown", word: line.subarray(start, end) };
}
