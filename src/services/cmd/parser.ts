// Splits a command-protocol request into its command word and its text, on bytes:
// the word is matched without decoding and without allocating, and the text is
// located by offset so that ECHO forwards it as a view and the others decode it once.
import { COMMAND_NAMES, type CommandName } from "./commands.js";

const SPACE = 0x20;
const TAB = 0x09;

/** A request line, parsed. `text` is a view into the received bytes (copy it to keep it). */
export type Request =
  | { kind: "empty" }
  | { kind: "command"; name: CommandName; text: Buffer }
  | { kind: "unknown"; word: Buffer };

/**
 * Where the parts of a request are, for the hot path: one object reused for every
 * request instead of a new one each. `kind` says which fields are meaningful.
 */
interface RequestScan {
  kind: "empty" | "command" | "unknown";
  /** For "command". */
  name: CommandName;
  wordStart: number;
  wordEnd: number;
  textStart: number;
}

export function newScan(): RequestScan {
  return { kind: "empty", name: "PING", wordStart: 0, wordEnd: 0, textStart: 0 };
}

/** Command names as upper-case ASCII bytes, indexed by length, for a compare without a string. */
const BY_LENGTH: Array<Array<{ name: CommandName; bytes: Buffer }>> = [];
for (const name of COMMAND_NAMES) {
  const list = BY_LENGTH[name.length] ?? [];
  list.push({ name, bytes: Buffer.from(name, "latin1") });
  BY_LENGTH[name.length] = list;
}

function isBlank(byte: number | undefined): boolean {
  return byte === SPACE || byte === TAB;
}

/** The command named by buf[start, end), ignoring ASCII case; undefined if none. */
function matchCommand(buf: Buffer, start: number, end: number): CommandName | undefined {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  for (let c = 0; c < candidates.length; c++) {
    const { name, bytes } = candidates[c]!;
    let i = 0;
    for (; i < bytes.length; i++) {
      let b = buf[start + i]!;
      if (b >= 0x61 && b <= 0x7a) b -= 0x20;
      if (b !== bytes[i]) break;
    }
    if (i === bytes.length) return name;
  }
  return undefined;
}

/**
 * Scans one request into `scan`. Blanks (spaces, tabs) before the word are skipped;
 * the word ends at the first blank; the text is what follows after one run of blanks,
 * kept byte for byte (trailing blanks included). A line of blanks is empty.
 */
export function scanRequest(line: Buffer, scan: RequestScan): void {
  const size = line.length;
  let start = 0;
  while (start < size && isBlank(line[start])) start++;
  if (start === size) {
    scan.kind = "empty";
    return;
  }
  let end = start;
  while (end < size && !isBlank(line[end])) end++;
  let textStart = end;
  while (textStart < size && isBlank(line[textStart])) textStart++;
  scan.wordStart = start;
  scan.wordEnd = end;
  scan.textStart = textStart;
  const name = matchCommand(line, start, end);
  if (name === undefined) {
    scan.kind = "unknown";
  } else {
    scan.kind = "command";
    scan.name = name;
  }
}

/** Parses one request into a fresh value (for callers off the hot path). */
export function parseRequest(line: Buffer): Request {
  const scan = newScan();
  scanRequest(line, scan);
  if (scan.kind === "empty") return { kind: "empty" };
  if (scan.kind === "unknown") return { kind: "unknown", word: line.subarray(scan.wordStart, scan.wordEnd) };
  return { kind: "command", name: scan.name, text: line.subarray(scan.textStart) };
}
