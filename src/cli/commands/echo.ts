// `echoplex echo`: the echo service.
import { Command, Option } from "commander";
import {
  createEchoServer,
  ECHO_DEFAULT_PORT,
  ECHO_DEFAULT_PREFIX,
  type EchoMode,
} from "../../services/echo/index.js";
import {
  addServiceOptions,
  type CommonServiceFlags,
  cliLogger,
  engineOptionsFromFlags,
  resolveListenAddress,
  tlsFromFlags,
} from "../options.js";
import { runServers } from "../run.js";

interface EchoFlags extends CommonServiceFlags {
  prefix: string;
  raw?: boolean;
}

export function echoCommand(): Command {
  const cmd = new Command("echo")
    .description("echo every line back with a prefix (or frames, or raw bytes)")
    .addOption(new Option("--prefix <text>", "reply prefix ('' for none)").default(ECHO_DEFAULT_PREFIX))
    .option("--raw", "echo bytes exactly as they arrive, no framing (RFC 862)");
  addServiceOptions(cmd, ECHO_DEFAULT_PORT);
  cmd.addHelpText(
    "after",
    `
Examples:
  echoplex echo                       listen on :${ECHO_DEFAULT_PORT}, answer "ECHO: <line>"
  echoplex echo 127.0.0.1:0           a free port on loopback (printed)
  echoplex echo --prefix 'Echo: '     another prefix
  echoplex echo --framing length      4-byte big-endian length-prefixed frames
  echoplex echo :7 --raw              RFC 862 echo on port 7 (--raw takes no value)`,
  );
  return cmd.action(async (address: string | undefined, flags: EchoFlags) => {
    const logger = cliLogger(flags.logLevel, flags.logFormat);
    const mode: EchoMode = flags.raw ? "raw" : flags.framing;
    const server = createEchoServer({
      mode,
      prefix: flags.prefix,
      maxMessageBytes: flags.maxLine,
      ...engineOptionsFromFlags(flags),
      logger,
      tls: await tlsFromFlags(flags, "echo"),
    });
    const summary = mode === "raw" ? "raw" : `${mode}, prefix ${JSON.stringify(flags.prefix)}`;
    await runServers(
      [{ name: "echo", summary, server, address: resolveListenAddress(address, flags, ECHO_DEFAULT_PORT) }],
      logger,
      flags,
    );
  });
}
