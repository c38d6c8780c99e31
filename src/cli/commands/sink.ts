// `echoplex sink`: the sink (message-logging) service.
import { LINE_SERVICE_OPTIONS } from "../../options/shared.js";
import { createSinkServer, SINK_DEFAULT_PORT } from "../../services/sink/index.js";
import { SINK_OPTIONS } from "../../services/sink/options.js";
import { parseRotate } from "../../services/sink/rotation.js";
import { type CommonServiceFlags, engineOptionsFromFlags } from "../options.js";
import { type ServiceDefinition, serviceCommand } from "../service-command.js";

export const sinkService: ServiceDefinition = {
  name: "sink",
  defaultPort: SINK_DEFAULT_PORT,
  description: "record every line (or frame) peers send: to the log, and as JSON lines with --out",
  options: [...SINK_OPTIONS, ...LINE_SERVICE_OPTIONS],
  examples: `
Examples:
  echoplex sink                               listen on :${SINK_DEFAULT_PORT}, log each message at debug level
  echoplex sink --out log.jsonl               append JSON lines; then: jq -r .text log.jsonl
  echoplex sink --out log.jsonl --fsync --ack durable, and each message answered with OK <n>
  echoplex sink --log-level debug             see every message in the log
  echoplex sink :5514 --format syslog --out syslog.jsonl --rotate 100m
                                              a syslog receiver (TCP; logger -T -n 127.0.0.1 -P 5514 hi)`,
  create(values, { logger, tls }) {
    const out = values.out as string | undefined;
    const rotate = values.rotate as string | undefined;
    return createSinkServer({
      ...(out === undefined ? {} : { out }),
      ...(rotate === undefined ? {} : { rotate: { ...parseRotate(rotate), keep: values.keep as number } }),
      format: values.format as "raw" | "syslog",
      fsync: values.fsync === true,
      ack: values.ack === true,
      statusIntervalMs: values.statusInterval as number,
      maxBufferedBytes: values.outBuffer as number,
      framing: values.framing as "lines" | "length",
      maxLineBytes: values.maxLine as number,
      ...engineOptionsFromFlags(values as unknown as CommonServiceFlags),
      logger,
      tls,
    });
  },
};

export const sinkCommand = () => serviceCommand(sinkService);
