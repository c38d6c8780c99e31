// When the sink's output file is rotated (--rotate SIZE|DURATION) and how (--keep N):
// FILE becomes FILE.1, FILE.1 becomes FILE.2 and so on, and files past FILE.N are
// removed. The recorder rotates only between records, so none is ever split.
import { open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { EchoplexError } from "../../errors.js";
import { SIZE_UNITS } from "../../options/spec.js";

/** Old files kept by default. */
export const SINK_DEFAULT_KEEP = 10;

export interface Rotation {
  /** Rotate before a record would take the file past this many bytes. */
  maxBytes?: number;
  /** Rotate at the first write this long after the file was opened. */
  everyMs?: number;
  /** Rotated files kept (FILE.1 … FILE.keep). */
  keep: number;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `100m`, `1g`, `512k` (a size: `m` is mebibytes here) or `30s`, `15min`, `1h`, `1d` (a
 * duration). A unit is required, so that neither is ever mistaken for the other.
 */
export function parseRotate(text: string): { maxBytes: number } | { everyMs: number } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$/.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? "";
  const size = SIZE_UNITS[unit];
  const duration = DURATION_UNITS[unit];
  const value = Number(m?.[1]);
  if (m === null || (size === undefined && duration === undefined)) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `bad --rotate "${text}": use a size (100m, 1g) or a duration (30s, 15min, 1h, 1d)`,
    );
  }
  const amount = Math.floor(value * (size ?? duration!));
  if (!Number.isSafeInteger(amount) || amount < (size === undefined ? 1000 : 1)) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --rotate "${text}": too small or too large`);
  }
  return size === undefined ? { everyMs: amount } : { maxBytes: amount };
}

/** The library's rotation settings, checked, with the default number of files kept. */
export function rotationOf(
  rotate: { maxBytes?: number; everyMs?: number; keep?: number } | undefined,
): Rotation | undefined {
  if (rotate === undefined) return undefined;
  const { maxBytes, everyMs, keep = SINK_DEFAULT_KEEP } = rotate;
  const positive = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n > 0);
  if ((maxBytes === undefined && everyMs === undefined) || !positive(maxBytes) || !positive(everyMs)) {
    throw new EchoplexError("ERR_BAD_OPTION", "rotate needs maxBytes and/or everyMs, positive whole numbers");
  }
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new EchoplexError("ERR_BAD_OPTION", "keep must be 1 or more");
  return {
    keep,
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(everyMs === undefined ? {} : { everyMs }),
  };
}

/** Moves FILE to FILE.1 and each FILE.n to FILE.n+1, removing what would pass FILE.keep. */
export async function shiftFiles(path: string, keep: number): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const numbered: number[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const suffix = name.slice(prefix.length);
    if (/^[1-9]\d{0,8}$/.test(suffix)) numbered.push(Number(suffix));
  }
  // Highest first, so that no rename overwrites a file not moved yet.
  numbered.sort((a, b) => b - a);
  for (const n of numbered) {
    const from = `${path}.${n}`;
    if (n >= keep) await unlink(from);
    else await rename(from, `${path}.${n + 1}`);
  }
  await rename(path, `${path}.1`);
}

/** Makes the renames in `path`'s directory durable (for --fsync). */
export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(join(dirname(path)), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
