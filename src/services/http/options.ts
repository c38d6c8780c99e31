// The HTTP responder's own options (plain declarations; the CLI makes flags and config keys of
// them). It has its own connection limits: the line services' engine limits do not apply.
import { duration, type OptionSpec, sizeText } from "../../options/spec.js";
import { HTTP_DEFAULTS } from "./settings.js";

const d = HTTP_DEFAULTS;

export const HTTP_OPTIONS: readonly OptionSpec[] = [
  duration("delay", "--delay", d.delayMs, "wait this long before answering (250ms, 2s, 1m)"),
  {
    name: "status",
    flag: "--status",
    kind: "count",
    placeholder: "code",
    default: d.status,
    min: 200,
    max: 599,
    help: "status code of the answer",
  },
  {
    name: "body",
    flag: "--body",
    kind: "string",
    placeholder: "text",
    default: d.body,
    help: "body of the answer",
  },
  {
    name: "headers",
    flag: "--header",
    kind: "headers",
    placeholder: "header",
    default: [],
    defaultText: "none",
    help: "add a response header 'Name: value' (repeatable)",
  },
  duration(
    "maxDelay",
    "--max-delay",
    d.maxDelayMs,
    "longest delay a request may ask for (/delay/N, ?delay=)",
  ),
  duration(
    "headersTimeout",
    "--headers-timeout",
    d.headersTimeoutMs,
    "a client must send its request headers within this (408)",
  ),
  duration(
    "requestTimeout",
    "--request-timeout",
    d.requestTimeoutMs,
    "a client must send its whole request within this (408)",
  ),
  duration(
    "keepAliveTimeout",
    "--keep-alive-timeout",
    d.keepAliveTimeoutMs,
    "close keep-alive connections idle this long",
  ),
  {
    name: "maxBody",
    flag: "--max-body",
    kind: "size",
    placeholder: "size",
    default: d.maxBodyBytes,
    defaultText: sizeText(d.maxBodyBytes),
    help: "largest request body accepted (413 beyond)",
  },
  {
    name: "maxConnections",
    flag: "--max-connections",
    kind: "count",
    placeholder: "n",
    default: d.maxConnections,
    min: 1,
    help: "answer 503 and close connections beyond this many",
  },
  {
    name: "maxPipeline",
    flag: "--max-pipeline",
    kind: "count",
    placeholder: "n",
    default: d.maxPipeline,
    min: 1,
    help: "stop reading from a connection with this many requests unanswered, until answers leave",
  },
  {
    name: "maxBytes",
    flag: "--max-bytes",
    kind: "size",
    placeholder: "size",
    default: d.maxBytes,
    defaultText: sizeText(d.maxBytes),
    help: "largest body a route generates (/bytes/N, /drip, /range/N…) and /ws message (400 beyond)",
  },
  {
    name: "allowOpenRedirect",
    flag: "--allow-open-redirect",
    kind: "boolean",
    default: false,
    help: "let /redirect-to send clients to any host (default: this host only, 403 otherwise)",
  },
  {
    name: "drainTimeout",
    flag: "--drain-timeout",
    kind: "duration",
    placeholder: "duration",
    defaultText: "max delay + 5s",
    help: "on shutdown, force-close after this",
  },
];
