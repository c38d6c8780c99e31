// The sink service's own options (plain declarations; the CLI makes flags and config keys of them).
import { durationText, type OptionSpec, sizeText } from "../../options/spec.js";
import { SINK_DEFAULT_MAX_BUFFERED } from "./index.js";
import { parseRotate, SINK_DEFAULT_KEEP } from "./rotation.js";

/** The command's summary line every minute; the library logs none unless asked. */
export const SINK_DEFAULT_STATUS_INTERVAL_MS = 60_000;

export const SINK_OPTIONS: readonly OptionSpec[] = [
  {
    name: "out",
    flag: "--out",
    kind: "string",
    placeholder: "file",
    help: "append every message to FILE as a JSON line {ts, peer, conn, bytes, text|base64}",
  },
  {
    name: "fsync",
    flag: "--fsync",
    kind: "boolean",
    default: false,
    help: "make each batch of records durable (fdatasync) before acknowledging it",
  },
  {
    name: "ack",
    flag: "--ack",
    kind: "boolean",
    default: false,
    help: "answer each message with OK <n> once it is recorded",
  },
  {
    name: "statusInterval",
    flag: "--status-interval",
    kind: "duration",
    placeholder: "duration",
    default: SINK_DEFAULT_STATUS_INTERVAL_MS,
    defaultText: durationText(SINK_DEFAULT_STATUS_INTERVAL_MS),
    help: "log a summary of the peers this often (0: never)",
  },
  {
    name: "outBuffer",
    flag: "--out-buffer",
    kind: "size",
    placeholder: "size",
    default: SINK_DEFAULT_MAX_BUFFERED,
    defaultText: sizeText(SINK_DEFAULT_MAX_BUFFERED),
    help: "stop reading from peers while this much waits for the disk",
  },
  {
    name: "format",
    flag: "--format",
    kind: "choice",
    placeholder: "format",
    choices: ["raw", "syslog"],
    default: "raw",
    help: "raw: each message as it came; syslog: RFC 5424/3164 parsed into fields (RFC 6587 framing on TCP)",
  },
  {
    name: "rotate",
    flag: "--rotate",
    kind: "string",
    placeholder: "size|duration",
    help: "rotate the --out file at this size (100m) or age (1h): FILE.1, FILE.2, … between records",
    check: (text) => {
      parseRotate(text);
    },
  },
  {
    name: "keep",
    flag: "--keep",
    kind: "count",
    placeholder: "n",
    default: SINK_DEFAULT_KEEP,
    min: 1,
    help: "rotated files to keep (FILE.1 … FILE.N); older ones are removed",
  },
];
