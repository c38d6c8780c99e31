// One declaration per option: the CLI turns it into a commander option (flag, parser,
// default, --help), a zod field of the `serve` config entry and a row of the docs' flag
// tables. Plain data on purpose: services declare their options without depending on
// commander or zod.

/**
 * How a value is written and what it becomes. Flags and config files parse to the same
 * value: size → bytes, duration → milliseconds, count → a whole number, number → a
 * non-negative number, headers → [name, value] pairs, list → the strings of a repeated flag.
 */
export type OptionKind =
  | "size"
  | "duration"
  | "count"
  | "number"
  | "string"
  | "choice"
  | "boolean"
  | "headers"
  | "list"
  | "port"
  | "address"
  | "workers";

export interface OptionSpec {
  /** camelCase: the key in a `serve` config entry and in the parsed values. */
  readonly name: string;
  /** The long flag, `--max-line`. */
  readonly flag: `--${string}`;
  readonly short?: `-${string}`;
  readonly kind: OptionKind;
  /** The placeholder after the flag in --help (`--max-line <size>`); none for a boolean. */
  readonly placeholder?: string;
  readonly choices?: readonly string[];
  /** In the parsed unit (bytes, ms); undefined: unset unless given. Booleans default to false. */
  readonly default?: unknown;
  /** How --help and the docs show the default when not the bare value (`64k`, `30s`). */
  readonly defaultText?: string;
  /** Smallest value accepted (in the parsed unit), and how the error names it. */
  readonly min?: number;
  readonly minText?: string;
  /** Largest value accepted (in the parsed unit). */
  readonly max?: number;
  readonly help: string;
  /** Environment variable read when the flag is not given. */
  readonly env?: string;
  /**
   * Where the option sits in a `serve` config: by default the service entry's key
   * `name`; a dotted path puts it in a nested object of the entry (`tls.cert`). Options
   * of the whole process (logging, admin, workers) sit at the config's top level.
   */
  readonly config?: string;
  readonly scope?: "service" | "process";
  /** A check of a string value beyond its kind; throws an EchoplexError naming the flag. */
  readonly check?: (value: string) => void;
}

/** Parsed option values by name: each declared option, defaults filled in. */
export type OptionValues = Readonly<Record<string, unknown>>;

/** A copy of `spec` with another default (chat keeps less pending output per peer). */
export function withDefault(spec: OptionSpec, value: unknown, defaultText?: string): OptionSpec {
  return { ...spec, default: value, ...(defaultText === undefined ? {} : { defaultText }) };
}

/** A duration default as --help and the docs show it: `250ms`, `30s`, `3600s`. */
export function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Size units of every size option (binary multiples), and of the sink's --rotate. */
export const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A size default as --help and the docs show it: `64k`, `8m`, or bytes. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024}m`;
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024}k` : `${bytes}`;
}

/** A duration option: kind, placeholder and the default's text filled in. */
export const duration = (
  name: string,
  flag: `--${string}`,
  ms: number,
  help: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec => ({
  name,
  flag,
  kind: "duration",
  placeholder: "duration",
  default: ms,
  defaultText: durationText(ms),
  help,
  ...extra,
});
