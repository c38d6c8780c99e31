// `echoplex echo`: the echo service.
import { LINE_SERVICE_OPTIONS } from "../../options/shared.js";
import type { OptionValues } from "../../options/spec.js";
import { createEchoServer, ECHO_DEFAULT_PORT, type EchoMode } from "../../services/echo/index.js";
import { ECHO_OPTIONS } from "../../services/echo/options.js";
import { type CommonServiceFlags, engineOptionsFromFlags } from "../options.js";
import { type ServiceDefinition, serviceCommand } from "../service-command.js";

/** --mode names the framing and raw at once; without it, --raw wins over --framing. */
function modeOf(values: OptionValues): EchoMode {
  if (values.mode !== undefined) return values.mode as EchoMode;
  return values.raw === true ? "raw" : (values.framing as EchoMode);
}

export const echoService: ServiceDefinition = {
  name: "echo",
  defaultPort: ECHO_DEFAULT_PORT,
  description: "echo every line back with a prefix (or frames, or raw bytes)",
  options: [...ECHO_OPTIONS, ...LINE_SERVICE_OPTIONS],
  examples: `
Examples:
  echoplex echo                       listen on :${ECHO_DEFAULT_PORT}, answer "ECHO: <line>"
  echoplex echo 127.0.0.1:0           a free port on loopback (printed)
  echoplex echo --prefix 'Echo: '     another prefix
  echoplex echo --framing length      4-byte big-endian length-prefixed frames
  echoplex echo :7 --raw              RFC 862 echo on port 7 (--raw takes no value)`,
  create(values, { logger, tls }) {
    const mode = modeOf(values);
    return createEchoServer({
      mode,
      prefix: values.prefix as string,
      maxLineBytes: values.maxLine as number,
      ...engineOptionsFromFlags(values as unknown as CommonServiceFlags),
      logger,
      tls,
    });
  },
};

export const echoCommand = () => serviceCommand(echoService);
