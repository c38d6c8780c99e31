// The echo service's own options (plain declarations; the CLI makes flags and config keys of them).
import type { OptionSpec } from "../../options/spec.js";
import { ECHO_DEFAULT_PREFIX } from "./index.js";

export const ECHO_OPTIONS: readonly OptionSpec[] = [
  {
    name: "prefix",
    flag: "--prefix",
    kind: "string",
    placeholder: "text",
    default: ECHO_DEFAULT_PREFIX,
    help: "reply prefix ('' for none)",
  },
  {
    name: "raw",
    flag: "--raw",
    kind: "boolean",
    default: false,
    help: "echo bytes exactly as they arrive, no framing (RFC 862)",
  },
  {
    name: "mode",
    flag: "--mode",
    kind: "choice",
    placeholder: "mode",
    choices: ["lines", "length", "raw"],
    help: "lines or length (as --framing), or raw (as --raw), in one setting; wins over both",
  },
];
