#!/usr/bin/env node
// The echoplex command line: a thin layer that turns flags into library calls
// and errors into one readable line and a non-zero exit.
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { EchoplexError } from "../core/errors.js";
import { benchCommand } from "./commands/bench.js";
import { chatCommand } from "./commands/chat.js";
import { clientCommand } from "./commands/client.js";
import { cmdCommand } from "./commands/cmd.js";
import { echoCommand } from "./commands/echo.js";
import { httpCommand } from "./commands/http.js";
import { serveCommand } from "./commands/serve.js";
import { sinkCommand } from "./commands/sink.js";
import { EXIT_FAILURE, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";

const require = createRequire(import.meta.url);
const { version } = require("../../package.json") as { version: string };

export { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";

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
  program.addCommand(cmdCommand());
  program.addCommand(chatCommand());
  program.addCommand(sinkCommand());
  program.addCommand(httpCommand());
  program.addCommand(serveCommand());
  program.addCommand(clientCommand());
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
      fail(`${err.message} (${err.code})`, exitCodeFor(err.code));
    }
    fail(err instanceof Error ? err.message : String(err), EXIT_FAILURE);
  }
}

void main(process.argv);
