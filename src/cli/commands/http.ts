// `echoplex http`: the HTTP responder.
import { Command, Option } from "commander";
import { EchoplexError } from "../../errors.js";
import {
  createHttpResponder,
  formatMs,
  HTTP_DEFAULT_PORT,
  HTTP_DEFAULTS,
} from "../../services/http/index.js";
import {
  addAdminOptions,
  addListenOptions,
  addLoggingOptions,
  addTlsOptions,
  addWorkersOption,
  cliLogger,
  type ListenFlags,
  type LoggingFlags,
  resolveListenAddress,
  type TlsFlags,
  tlsFromFlags,
} from "../options.js";
import { type RunFlags, runServers } from "../run.js";
import { parseCount, parseDuration, parseSize } from "../units.js";

interface HttpFlags extends ListenFlags, TlsFlags, LoggingFlags, RunFlags {
  delay: number;
  status: number;
  body: string;
  header: Array<[string, string]>;
  maxDelay: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxBody: number;
  maxConnections: number;
  maxPipeline: number;
  drainTimeout?: number;
}

/** `Name: value` into a header pair; commander calls this once per --header. */
function parseHeader(text: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --header "${text}": use 'Name: value'`);
  }
  return [...previous, [name, text.slice(colon + 1).trim()]];
}

export function httpCommand(): Command {
  const d = HTTP_DEFAULTS;
  const cmd = new Command("http").description(
    "answer every HTTP request after a delay (timeouts, retries and load balancer testing)",
  );
  addListenOptions(cmd, HTTP_DEFAULT_PORT)
    .addOption(
      new Option("--delay <duration>", "wait this long before answering (250ms, 2s, 1m)")
        .argParser((v) => parseDuration(v, "--delay"))
        .default(d.delayMs, formatMs(d.delayMs)),
    )
    .addOption(
      new Option("--status <code>", "status code of the answer")
        .argParser((v) => parseCount(v, "--status"))
        .default(d.status),
    )
    .addOption(new Option("--body <text>", "body of the answer").default(d.body))
    .addOption(
      new Option("--header <header>", "add a response header 'Name: value' (repeatable)")
        .argParser(parseHeader)
        .default([], "none"),
    )
    .addOption(
      new Option("--max-delay <duration>", "longest delay a request may ask for (/delay/N, ?delay=)")
        .argParser((v) => parseDuration(v, "--max-delay"))
        .default(d.maxDelayMs, formatMs(d.maxDelayMs)),
    )
    .addOption(
      new Option("--headers-timeout <duration>", "a client must send its request headers within this (408)")
        .argParser((v) => parseDuration(v, "--headers-timeout"))
        .default(d.headersTimeoutMs, formatMs(d.headersTimeoutMs)),
    )
    .addOption(
      new Option("--request-timeout <duration>", "a client must send its whole request within this (408)")
        .argParser((v) => parseDuration(v, "--request-timeout"))
        .default(d.requestTimeoutMs, formatMs(d.requestTimeoutMs)),
    )
    .addOption(
      new Option("--keep-alive-timeout <duration>", "close keep-alive connections idle this long")
        .argParser((v) => parseDuration(v, "--keep-alive-timeout"))
        .default(d.keepAliveTimeoutMs, formatMs(d.keepAliveTimeoutMs)),
    )
    .addOption(
      new Option("--max-body <size>", "largest request body accepted (413 beyond)")
        .argParser((v) => parseSize(v, "--max-body"))
        .default(d.maxBodyBytes, "1m"),
    )
    .addOption(
      new Option("--max-connections <n>", "answer 503 and close connections beyond this many")
        .argParser((v) => parseCount(v, "--max-connections"))
        .default(d.maxConnections),
    )
    .addOption(
      new Option(
        "--max-pipeline <n>",
        "stop reading from a connection with this many requests unanswered, until answers leave",
      )
        .argParser((v) => parseCount(v, "--max-pipeline"))
        .default(d.maxPipeline),
    )
    .addOption(
      new Option(
        "--drain-timeout <duration>",
        "on shutdown, force-close after this (default: max delay + 5s)",
      ).argParser((v) => parseDuration(v, "--drain-timeout")),
    );
  addWorkersOption(cmd);
  addTlsOptions(cmd);
  addAdminOptions(cmd);
  addLoggingOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Per-request overrides:
  /delay/{seconds}   answer after this delay (up to --max-delay)
  /status/{code}     answer with this status
  ?delay=2s&status=503  the same on any path
  /echo              the request (method, path, headers, body) as JSON
  /healthz           "ok" at once, never delayed

Examples:
  echoplex http                        listen on :${HTTP_DEFAULT_PORT}, "Hello World!" after 4s
  echoplex http 127.0.0.1:0 --delay 250ms
  echoplex http --status 503 --header 'Retry-After: 5'
  echoplex http --admin 9090          metrics, peers and a status page on 127.0.0.1:9090
  echoplex http --tls-self-signed      HTTPS with a generated certificate`,
  );
  return cmd.action(async (address: string | undefined, flags: HttpFlags) => {
    const logger = cliLogger(flags.logLevel, flags.logFormat);
    const server = createHttpResponder({
      delayMs: flags.delay,
      status: flags.status,
      body: flags.body,
      headers: flags.header,
      maxDelayMs: flags.maxDelay,
      headersTimeoutMs: flags.headersTimeout,
      requestTimeoutMs: flags.requestTimeout,
      keepAliveTimeoutMs: flags.keepAliveTimeout,
      maxBodyBytes: flags.maxBody,
      maxConnections: flags.maxConnections,
      maxPipeline: flags.maxPipeline,
      ...(flags.drainTimeout === undefined ? {} : { drainTimeoutMs: flags.drainTimeout }),
      logger,
      tls: await tlsFromFlags(flags, "http"),
    });
    await runServers(
      [
        {
          name: "http",
          summary: httpSummary(flags.delay, flags.status),
          server,
          address: resolveListenAddress(address, flags, HTTP_DEFAULT_PORT),
        },
      ],
      logger,
      flags,
    );
  });
}

export function httpSummary(delayMs: number, status: number): string {
  return `delay ${formatMs(delayMs)}, status ${status}`;
}
