#!/usr/bin/env node
// The echoplex command line: a thin layer that turns flags into library calls
// and errors into one readable line and a non-zero exit.
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { EchoplexError } from "../core/errors.js";
import { benchCommand } from "./commands/bench.js";
import { echoCommand } from "./commands/echo.js";

const require = createRequire(import.meta.url);
const { version } = require("../../package.json") as { version: string };

/** Exit codes: 1 runtime failure, 2 bad usage or option. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

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
  program.addCommand(echoCommand());
  program.addCommand(benchCommand());
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (EchoplexError.is(err)) {
      fail(
        `${err.message} (${err.code})`,
        err.code === "ERR_BAD_OPTION" || err.code === "ERR_BAD_ADDRESS" ? EXIT_USAGE : EXIT_FAILURE,
      );
    }
    fail(err instanceof Error ? err.message : String(err), EXIT_FAILURE);
  }
}

void main(process.argv);
