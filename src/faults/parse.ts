// The `--fault` grammar: `[up:|down:]kind=value`, one fault per flag (latency=200ms,
// bandwidth=64k, slice=1-64, reset=0.1…), parsed into plain data or ERR_FAULT_SYNTAX.
import { parseDuration, parseSize } from "../cli/units.js";
import { EchoplexError } from "../errors.js";

export const FAULT_KINDS = [
  "latency",
  "jitter",
  "bandwidth",
  "slice",
  "stall",
  "reset",
  "close",
  "truncate",
  "drop",
  "corrupt",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which way the bytes go through a proxy: `up` client → upstream, `down` upstream → client. */
export type FaultDirection = "up" | "down";

const DURATION_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "jitter", "stall"]);
const CHANCE_KINDS: ReadonlySet<FaultKind> = new Set(["reset", "close", "truncate", "drop", "corrupt"]);
/** Slices no longer than this: a slice is there to split replies, not to buffer them. */
const SLICE_MAX = 64 * 1024;

export interface FaultSpec {
  kind: FaultKind;
  /** ms (latency, jitter, stall), bytes per second (bandwidth), probability 0–1 (reset…corrupt), smallest slice. */
  value: number;
  /** slice only: the largest slice (bytes). */
  max?: number;
  /** Proxy only: which direction it applies to (none: both). */
  direction?: FaultDirection;
  /** As written, normalised (`down:latency=200ms`). */
  text: string;
}

function syntax(text: string, why: string): EchoplexError {
  return new EchoplexError(
    "ERR_FAULT_SYNTAX",
    `bad fault "${text}": ${why} (kinds: ${FAULT_KINDS.join(", ")}; e.g. latency=200ms, bandwidth=64k, slice=1-64, reset=0.1)`,
  );
}

/** Parses one fault; `directions` allows the proxy's `up:`/`down:` prefix. */
export function parseFault(input: string, options: { directions?: boolean } = {}): FaultSpec {
  const text = input.trim();
  let rest = text;
  let direction: FaultDirection | undefined;
  const prefix = /^(up|down):/.exec(rest);
  if (prefix !== null) {
    if (options.directions !== true) throw syntax(text, "up:/down: applies to the proxy only");
    direction = prefix[1] as FaultDirection;
    rest = rest.slice(prefix[0].length);
  }
  const eq = rest.indexOf("=");
  if (eq <= 0) throw syntax(text, "expected kind=value");
  const kind = rest.slice(0, eq).trim() as FaultKind;
  const valueText = rest.slice(eq + 1).trim();
  if (!FAULT_KINDS.includes(kind)) throw syntax(text, `unknown kind "${kind}"`);
  const spec = parseValue(text, kind, valueText);
  const normal = `${direction === undefined ? "" : `${direction}:`}${kind}=${valueText}`;
  return { ...spec, ...(direction === undefined ? {} : { direction }), text: normal };
}

function parseValue(text: string, kind: FaultKind, value: string): Omit<FaultSpec, "text" | "direction"> {
  try {
    if (DURATION_KINDS.has(kind)) return { kind, value: parseDuration(value, kind) };
    if (kind === "bandwidth") {
      const rate = parseSize(value, kind);
      if (rate < 1) throw syntax(text, "bandwidth must be at least 1 byte per second");
      return { kind, value: rate };
    }
    if (kind === "slice") return parseSlice(text, value);
  } catch (err) {
    if (EchoplexError.is(err) && err.code === "ERR_FAULT_SYNTAX") throw err;
    throw syntax(text, (err as Error).message);
  }
  if (CHANCE_KINDS.has(kind)) {
    const chance = Number(value);
    if (value === "" || !Number.isFinite(chance) || chance < 0 || chance > 1) {
      throw syntax(text, "expected a probability from 0 to 1");
    }
    return { kind, value: chance };
  }
  throw syntax(text, `unknown kind "${kind}"`);
}

function parseSlice(text: string, value: string): Omit<FaultSpec, "text" | "direction"> {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (match === null) throw syntax(text, "expected slice=MIN-MAX in bytes, like slice=1-64");
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min < 1 || max < min || max > SLICE_MAX) {
    throw syntax(text, `slice sizes must satisfy 1 <= MIN <= MAX <= ${SLICE_MAX}`);
  }
  return { kind: "slice", value: min, max };
}
