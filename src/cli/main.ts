#!/usr/bin/env node
// The echoplex command line: a thin layer that turns flags into library calls
// and errors into one readable line and a non-zero exit.
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { EchoplexError } from "../core/errors.js";
import { EXIT_FAILURE, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";

const require = createRequire(import.meta.url);
const { version } = require("../../package.json") as { version: string };

export { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";

/**
 * Each command's module, loaded only when it is the one being run: a service then does
 * not pay the start-up time and memory of the others' dependencies (Redis client, schema
 * validation, histograms: about 40 MiB of RSS together). In the order `--help` lists them.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  echo: async () => (await import("./commands/echo.js")).echoCommand(),
  cmd: async () => (await import("./commands/cmd.js")).cmdCommand(),
  chat: async () => (await import("./commands/chat.js")).chatCommand(),
  sink: async () => (await import("./commands/sink.js")).sinkCommand(),
  http: async () => (await import("./commands/http.js")).httpCommand(),
  serve: async () => (await import("./commands/serve.js")).serveCommand(),
  client: async () => (await import("./commands/client.js")).clientCommand(),
  bench: async () => (await import("./commands/bench.js")).benchCommand(),
};

/** The commands to register: just the one named first on the command line, or all (for help and errors). */
function commandsFor(argv: string[]): string[] {
  const name = argv[2];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
}

function fail(message: string, code: number): never {
  process.stderr.write(`echoplex: error: ${message}\n`);
  process.exit(code);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command("echoplex")
    .description(
      "TCP server toolkit: echo, command, chat, sink and HTTP services, a client and a load generator",
    )
    .version(version, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const commands = await Promise.all(commandsFor(argv).map((name) => COMMANDS[name]!()));
  for (const cmd of commands) program.addCommand(cmd);
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (EchoplexError.is(err)) {
      fail(`${err.message} (${err.code})`, exitCodeFor(err.code));
    }
    fail(err instanceof Error ? err.message : String(err), EXIT_FAILURE);
  }
}

void main(process.argv);
