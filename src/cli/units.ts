// Human units on the command line: sizes (64k, 1MiB) and durations (250ms, 2s, 1m).
import { EchoplexError } from "../errors.js";
import { SIZE_UNITS } from "../options/spec.js";

/** Parses `65536`, `64k`, `64KiB`, `1m` into bytes (binary multiples). */
export function parseSize(text: string, what = "size"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `bad ${what} "${text}": use bytes or a unit, like 65536, 64k, 1m`,
    );
  }
  return safe(Math.floor(Number(match[1]) * unit), what, text);
}

/** Digits can spell numbers past 2^53 (or Infinity): refuse them rather than round. */
function safe(value: number, what: string, text: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad ${what} "${text}": too large`);
  }
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `2s`, `1.5s`, `1m`, `1h` into milliseconds; a bare number is seconds. */
export function parseDuration(text: string, what = "duration"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `bad ${what} "${text}": use a number and a unit, like 250ms, 2s, 1m`,
    );
  }
  return safe(Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "s"]!), what, text);
}

/** Parses a non-negative integer. */
export function parseCount(text: string, what = "number"): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad ${what} "${text}": expected a whole number`);
  }
  return safe(Number(text), what, text);
}
