// Usage errors in the one documented form. Commander finds them (unknown command or
// option, a value outside its choices, a missing or extra argument); this module words
// them as `echoplex: error: <what> (<CODE>)`, with at most one hint line after.
import type { Command, CommanderError } from "commander";
import type { ErrorCode } from "../errors.js";

interface UsageError {
  code: ErrorCode;
  message: string;
  /** A second line: commander's "(Did you mean …?)", or why an argument was extra. */
  hint?: string;
}

/**
 * The usage error for a commander error. `command` is the (sub)command being parsed
 * and `argv` the raw arguments after the program name, which explain extra arguments.
 */
export function usageError(err: CommanderError, command: Command | undefined, argv: string[]): UsageError {
  // A bad value is the same mistake as one our own parsers reject (ERR_BAD_OPTION);
  // everything else is a command line of the wrong shape.
  const code: ErrorCode = err.code === "commander.invalidArgument" ? "ERR_BAD_OPTION" : "ERR_USAGE";
  if (err.code === "commander.excessArguments" && command !== undefined) {
    return { code, ...excessArguments(command, argv) };
  }
  // Commander puts its suggestion on a line of its own after the message.
  const [first = "", ...rest] = err.message.split("\n");
  const message = first.replace(/^error: /, "").replace(/\.$/, "");
  const hint = rest.join(" ").trim();
  return hint === "" ? { code, message } : { code, message, hint };
}

/** Names what the command takes and what it got; a flag without a value explains the surplus. */
function excessArguments(command: Command, argv: string[]): { message: string; hint?: string } {
  const expected = command.registeredArguments
    .map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`))
    .join(" ");
  const message = `too many arguments for '${command.name()}': expected ${expected}, got ${command.args.join(" ")}`;
  const variadic = command.registeredArguments.at(-1)?.variadic === true;
  const extra = variadic ? command.args.slice(1) : command.args.slice(command.registeredArguments.length);
  const misplaced = argumentAfterBooleanFlag(command, extra, argv);
  if (misplaced === undefined) return { message };
  const hint = `(${misplaced.flag} takes no value)`;
  // A command taking any number of arguments has no "too many": the value is in the wrong place.
  return variadic
    ? { message: `unexpected argument '${misplaced.value}' after ${misplaced.flag}`, hint }
    : { message, hint };
}

/**
 * `--raw 7` reads as "--raw takes 7", but --raw takes nothing: 7 became an argument.
 * Returns the first of `args` that directly follows a boolean flag in `argv`.
 */
export function argumentAfterBooleanFlag(
  command: Command,
  args: readonly string[],
  argv: readonly string[],
): { value: string; flag: string } | undefined {
  const candidates = new Set(args);
  for (let i = 1; i < argv.length; i++) {
    if (!candidates.has(argv[i]!)) continue;
    const flag = argv[i - 1]!;
    const option = command.options.find((o) => o.long === flag || o.short === flag);
    if (option?.isBoolean()) return { value: argv[i]!, flag: option.long ?? flag };
  }
  return undefined;
}

/** What `echoplex` alone prints: the commands, one line each, and where the rest is. */
export function shortUsage(summaries: ReadonlyArray<readonly [name: string, summary: string]>): string {
  const width = Math.max(...summaries.map(([name]) => name.length));
  return [
    "usage: echoplex COMMAND [ARGS] [OPTIONS]",
    "",
    ...summaries.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    "",
    "run `echoplex help COMMAND` for its arguments and options",
  ]
    .map((line) => `${line}\n`)
    .join("");
}
