// The proxy's own options: where to forward (--to, --to-tls) and its faults, which may
// name a direction (`up:` client → upstream, `down:` upstream → client).
import { faultOption } from "../../options/shared.js";
import type { OptionSpec } from "../../options/spec.js";

export const PROXY_OPTIONS: readonly OptionSpec[] = [
  {
    name: "to",
    flag: "--to",
    kind: "address",
    placeholder: "host:port",
    help: "the upstream every connection is forwarded to (required with LISTEN; --admin alone starts with no proxy)",
  },
  {
    name: "toTls",
    flag: "--to-tls",
    kind: "boolean",
    default: false,
    help: "speak TLS to the upstream (its certificate checked against the system CAs)",
  },
  {
    name: "toInsecure",
    flag: "--to-insecure",
    kind: "boolean",
    default: false,
    help: "with --to-tls: accept any upstream certificate (tests, self-signed servers)",
  },
];

/** --fault as the proxy takes it: `up:`/`down:` allowed (none: both directions). */
export const PROXY_FAULT_OPTION: OptionSpec = faultOption(
  "inject a fault, repeatable, per direction: up:latency=50ms, down:bandwidth=64k, reset=0.01 (both ways)",
  true,
);
