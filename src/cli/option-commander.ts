// Commander options from the option declarations (src/options/spec.ts): flag, value
// parser, default and help come from one declaration, and the parsed values come back
// keyed by the declared names whatever commander calls them.
import { type Command, Option } from "commander";
import { parseAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";
import type { OptionSpec, OptionValues } from "../options/spec.js";
import { parseWorkers } from "./cluster-worker.js";
import { parseCount, parseDuration, parseSize } from "./units.js";

/** What is wrong with a value outside the declared bounds (`must be at least 1`), if it is. */
export function checkBounds(spec: OptionSpec, value: number): string | undefined {
  if (spec.min !== undefined && spec.max !== undefined && (value < spec.min || value > spec.max))
    return `must be from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.minText ?? spec.min}`;
  return undefined;
}

function bounded(spec: OptionSpec, value: number): number {
  const problem = checkBounds(spec, value);
  if (problem !== undefined) throw new EchoplexError("ERR_BAD_OPTION", `${spec.flag} ${problem}`);
  return value;
}

function parseNumber(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad ${flag} "${text}": expected a non-negative number`);
  }
  return value;
}

/** `Name: value` into a header pair; commander calls this once per --header. */
export function parseHeader(text: string, flag = "--header"): [string, string] {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad ${flag} "${text}": use 'Name: value'`);
  }
  return [name, text.slice(colon + 1).trim()];
}

/** The flag's text into the declared value (the same value a config file gives). */
export function parseFlagValue(spec: OptionSpec, text: string, previous?: unknown): unknown {
  switch (spec.kind) {
    case "size":
      return bounded(spec, parseSize(text, spec.flag));
    case "duration":
      return bounded(spec, parseDuration(text, spec.flag));
    case "count":
      return bounded(spec, parseCount(text, spec.flag));
    case "number":
      return bounded(spec, parseNumber(text, spec.flag));
    case "workers":
      return parseWorkers(text);
    case "address":
      parseAddress(text); // a bad address fails before any service starts
      return text;
    case "headers":
      return [...((previous as Array<[string, string]> | undefined) ?? []), parseHeader(text, spec.flag)];
    case "string":
      spec.check?.(text);
      return text;
    case "list":
      spec.check?.(text);
      return [...((previous as string[] | undefined) ?? []), text];
    default:
      return text;
  }
}

function optionOf(spec: OptionSpec): Option {
  const value = spec.kind === "boolean" ? "" : ` <${spec.placeholder ?? "value"}>`;
  const option = new Option(
    `${spec.short === undefined ? "" : `${spec.short}, `}${spec.flag}${value}`,
    spec.help,
  );
  if (spec.choices !== undefined) option.choices(spec.choices);
  else if (spec.kind !== "boolean" && spec.kind !== "port")
    option.argParser((text: string, previous: unknown) => parseFlagValue(spec, text, previous));
  // Booleans read false when absent (the values fill that in), so --help shows no default.
  if (spec.kind !== "boolean" && (spec.default !== undefined || spec.defaultText !== undefined))
    option.default(spec.default, spec.defaultText);
  if (spec.env !== undefined) option.env(spec.env);
  return option;
}

/** Adds every declared option to the command, in declaration order. */
export function addDeclaredOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) cmd.addOption(optionOf(spec));
  return cmd;
}

/** The parsed values by declared name, defaults filled in (false for an absent boolean). */
export function valuesFromCommand(cmd: Command, specs: readonly OptionSpec[]): OptionValues {
  const opts = cmd.opts<Record<string, unknown>>();
  const values: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = opts[optionOf(spec).attributeName()];
    values[spec.name] = value ?? (spec.kind === "boolean" ? false : spec.default);
  }
  return values;
}

/** Whether the option's value came from the command line (it then wins over a config file). */
export function givenOnCommandLine(cmd: Command, spec: OptionSpec): boolean {
  return cmd.getOptionValueSource(optionOf(spec).attributeName()) === "cli";
}
