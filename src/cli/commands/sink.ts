// `echoplex sink`: the sink (message-logging) service.
import { Command, Option } from "commander";
import { createSinkServer, SINK_DEFAULT_MAX_BUFFERED, SINK_DEFAULT_PORT } from "../../services/sink/index.js";
import {
  addServiceOptions,
  type CommonServiceFlags,
  cliLogger,
  engineOptionsFromFlags,
  resolveListenAddress,
  tlsFromFlags,
} from "../options.js";
import { runServers } from "../run.js";
import { parseDuration, parseSize } from "../units.js";

interface SinkFlags extends CommonServiceFlags {
  out?: string;
  fsync?: boolean;
  ack?: boolean;
  statusInterval: number;
  outBuffer: number;
}

export function sinkCommand(): Command {
  const cmd = new Command("sink")
    .description("record every line (or frame) peers send: to the log, and as JSON lines with --out")
    .option(
      "--out <file>",
      "append every message to FILE as a JSON line {ts, peer, conn, bytes, text|base64}",
    )
    .option("--fsync", "make each batch of records durable (fdatasync) before acknowledging it")
    .option("--ack", "answer each message with OK <n> once it is recorded")
    .addOption(
      new Option("--status-interval <duration>", "log a summary of the peers this often (0: never)")
        .argParser((v) => parseDuration(v, "--status-interval"))
        .default(60_000, "60s"),
    )
    .addOption(
      new Option("--out-buffer <size>", "stop reading from peers while this much waits for the disk")
        .argParser((v) => parseSize(v, "--out-buffer"))
        .default(SINK_DEFAULT_MAX_BUFFERED, `${SINK_DEFAULT_MAX_BUFFERED / 1024 / 1024}m`),
    );
  addServiceOptions(cmd, SINK_DEFAULT_PORT);
  cmd.addHelpText(
    "after",
    `
Examples:
  echoplex sink                               listen on :${SINK_DEFAULT_PORT}, log each message at debug level
  echoplex sink --out log.jsonl               append JSON lines; then: jq -r .text log.jsonl
  echoplex sink --out log.jsonl --fsync --ack durable, and each message answered with OK <n>
  echoplex sink --log-level debug             see every message in the log`,
  );
  return cmd.action(async (address: string | undefined, flags: SinkFlags) => {
    const logger = cliLogger(flags.logLevel, flags.logFormat);
    const server = createSinkServer({
      out: flags.out,
      fsync: flags.fsync === true,
      ack: flags.ack === true,
      statusIntervalMs: flags.statusInterval,
      maxBufferedBytes: flags.outBuffer,
      framing: flags.framing,
      maxLineBytes: flags.maxLine,
      ...engineOptionsFromFlags(flags),
      logger,
      tls: await tlsFromFlags(flags, "sink"),
    });
    const parts: string[] = [flags.framing, flags.out === undefined ? "log only" : `out ${flags.out}`];
    if (flags.fsync) parts.push("fsync");
    if (flags.ack) parts.push("ack");
    await runServers(
      [
        {
          name: "sink",
          summary: parts.join(", "),
          server,
          observe: server.server,
          address: resolveListenAddress(address, flags, SINK_DEFAULT_PORT),
        },
      ],
      logger,
      flags,
    );
  });
}
