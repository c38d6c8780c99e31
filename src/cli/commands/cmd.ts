// `echoplex cmd`: the command service.
import { LINE_SERVICE_OPTIONS } from "../../options/shared.js";
import { CMD_DEFAULT_PORT, type CmdFraming, createCmdServer } from "../../services/cmd/index.js";
import { type CommonServiceFlags, engineOptionsFromFlags } from "../options.js";
import { type ServiceDefinition, serviceCommand } from "../service-command.js";

export const cmdService: ServiceDefinition = {
  name: "cmd",
  defaultPort: CMD_DEFAULT_PORT,
  description: "command protocol: ECHO, UPPER, LOWER, REVERSE, TIME, PING, HELP, QUIT (one reply per line)",
  options: LINE_SERVICE_OPTIONS,
  examples: `
Examples:
  echoplex cmd                        listen on :${CMD_DEFAULT_PORT}
  echoplex cmd 127.0.0.1:0            a free port on loopback (printed)
  echoplex cmd --framing length       4-byte big-endian length-prefixed requests and replies
  printf 'UPPER héllo\\nTIME\\n' | echoplex client localhost:${CMD_DEFAULT_PORT}`,
  create(values, { logger, tls }) {
    return createCmdServer({
      framing: values.framing as CmdFraming,
      maxLineBytes: values.maxLine as number,
      ...engineOptionsFromFlags(values as unknown as CommonServiceFlags),
      logger,
      tls,
    });
  },
};

export const cmdCommand = () => serviceCommand(cmdService);
