#!/usr/bin/env node
// The echoplex command line: a thin layer that turns flags into library calls
// and errors into one readable line and a non-zero exit.
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { EchoplexError } from "../errors.js";
import { EXIT_FAILURE, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";
import { keepServerHeapSmall } from "./heap-size.js";
import { shortUsage, usageError } from "./usage.js";

const require = createRequire(import.meta.url);
const { version } = require("../../package.json") as { version: string };

export { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";

/**
 * Each command's module, loaded only when it is the one being run: a service then does
 * not pay the start-up time and memory of the others' dependencies (Redis client, schema
 * validation, histograms: about 40 MiB of RSS together). In the order `--help` lists them,
 * each with the one line that lists it (here, so `echoplex` alone loads none of them).
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command>; serves?: true }> = {
  echo: {
    summary: "echo every line back with a prefix (or frames, or raw bytes)",
    serves: true,
    load: async () => (await import("./commands/echo.js")).echoCommand(),
  },
  cmd: {
    summary: "command protocol: ECHO, UPPER, TIME, PING, … one reply per line",
    serves: true,
    load: async () => (await import("./commands/cmd.js")).cmdCommand(),
  },
  chat: {
    summary: "chat server for nc and telnet: rooms, nicks, private messages",
    serves: true,
    load: async () => (await import("./commands/chat.js")).chatCommand(),
  },
  sink: {
    summary: "record every line (or frame) peers send, to the log or a file",
    serves: true,
    load: async () => (await import("./commands/sink.js")).sinkCommand(),
  },
  http: {
    summary: "answer every HTTP request after a delay",
    serves: true,
    load: async () => (await import("./commands/http.js")).httpCommand(),
  },
  proxy: {
    summary: "TCP proxy to one upstream, with injected faults",
    serves: true,
    load: async () => (await import("./commands/proxy.js")).proxyCommand(),
  },
  serve: {
    summary: "run several services in one process",
    serves: true,
    load: async () => (await import("./commands/serve.js")).serveCommand(),
  },
  client: {
    summary: "connect to a line server: interactive at a terminal, or a pipe",
    load: async () => (await import("./commands/client.js")).clientCommand(),
  },
  bench: {
    summary: "load generator for TCP and HTTP servers",
    load: async () => (await import("./commands/bench.js")).benchCommand(),
  },
};

/** The commands to register: just the one named first on the command line, or all (for help and errors). */
function commandsFor(argv: string[]): string[] {
  const name = argv[2];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
}

function fail(message: string, code: number, hint?: string): never {
  process.stderr.write(`echoplex: error: ${message}\n${hint === undefined ? "" : `${hint}\n`}`);
  process.exit(code);
}

/**
 * Commander's errors are reported by main, in the documented form: it prints none itself
 * (writeErr carries only errors and the help it shows for a missing command).
 */
function quiet(cmd: Command): void {
  cmd.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
  for (const sub of cmd.commands) quiet(sub);
}

/** `help [command]`, whose unknown command is an error as `echoplex nosuch` is (not the full help). */
function helpCommand(program: Command): Command {
  return new Command("help")
    .description("show a command's arguments and options (or the overview)")
    .argument("[command]")
    .action(async (name: string | undefined) => {
      if (name === undefined) return program.outputHelp();
      const command = program.commands.find((c) => c.name() === name);
      if (command !== undefined) return command.outputHelp();
      // Parsing the name alone fails with commander's unknown-command error and suggestion.
      await program.parseAsync([name], { from: "user" });
    });
}

/** For a command line without a command: the commands and where their help is, exit 2. */
function shortUsageAndExit(): never {
  process.stderr.write(shortUsage(Object.entries(COMMANDS).map(([name, c]) => [name, c.summary])));
  process.exit(EXIT_USAGE);
}

export async function main(argv: string[]): Promise<void> {
  if (argv.length <= 2) shortUsageAndExit();
  const program = new Command("echoplex")
    .description(
      "TCP server toolkit: echo, command, chat, sink and HTTP services, a client and a load generator",
    )
    .version(version, "-v, --version")
    .helpCommand(false)
    // Each command on one line: its name and summary (its arguments are in its own help).
    .configureHelp({ subcommandTerm: (cmd) => cmd.name() });
  const names = commandsFor(argv);
  // A server keeps its heap near what it holds (heap-size.ts has the measurements);
  // the client and the load generator exit when done.
  if (names.length === 1 && COMMANDS[names[0]!]!.serves) keepServerHeapSmall();
  const commands = await Promise.all(names.map((name) => COMMANDS[name]!.load()));
  for (const [i, cmd] of commands.entries()) program.addCommand(cmd.summary(COMMANDS[names[i]!]!.summary));
  program.addCommand(helpCommand(program));
  quiet(program);
  // The command being parsed: an error about extra arguments names what it takes.
  let parsing: Command | undefined;
  program.hook("preSubcommand", (_program, sub) => {
    parsing = sub;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0 and were printed on stdout.
      if (err.exitCode === 0) process.exit(0);
      // Options but no command (`echoplex --`): what `echoplex` alone prints.
      if (err.code === "commander.help") shortUsageAndExit();
      const usage = usageError(err, parsing, argv.slice(2));
      fail(`${usage.message} (${usage.code})`, exitCodeFor(usage.code), usage.hint);
    }
    if (EchoplexError.is(err)) {
      fail(`${err.message} (${err.code})`, exitCodeFor(err.code));
    }
    fail(err instanceof Error ? err.message : String(err), EXIT_FAILURE);
  }
}

void main(process.argv);
