// `echoplex cmd`: the command service.
import { Command } from "commander";
import { CMD_DEFAULT_PORT, createCmdServer } from "../../services/cmd/index.js";
import {
  addServiceOptions,
  type CommonServiceFlags,
  cliLogger,
  engineOptionsFromFlags,
  resolveListenAddress,
  tlsFromFlags,
} from "../options.js";
import { runServers } from "../run.js";

export function cmdCommand(): Command {
  const cmd = new Command("cmd").description(
    "command protocol: ECHO, UPPER, LOWER, REVERSE, TIME, PING, HELP, QUIT (one reply per line)",
  );
  addServiceOptions(cmd, CMD_DEFAULT_PORT);
  cmd.addHelpText(
    "after",
    `
Examples:
  echoplex cmd                        listen on :${CMD_DEFAULT_PORT}
  echoplex cmd 127.0.0.1:0            a free port on loopback (printed)
  echoplex cmd --framing length       4-byte big-endian length-prefixed requests and replies
  printf 'UPPER héllo\\nTIME\\n' | echoplex client localhost:${CMD_DEFAULT_PORT}`,
  );
  return cmd.action(async (address: string | undefined, flags: CommonServiceFlags) => {
    const logger = cliLogger(flags.logLevel, flags.logFormat);
    const server = createCmdServer({
      framing: flags.framing,
      maxMessageBytes: flags.maxLine,
      ...engineOptionsFromFlags(flags),
      logger,
      tls: await tlsFromFlags(flags, "cmd"),
    });
    await runServers(
      [
        {
          name: "cmd",
          summary: flags.framing,
          server,
          address: resolveListenAddress(address, flags, CMD_DEFAULT_PORT),
        },
      ],
      logger,
      flags,
    );
  });
}
