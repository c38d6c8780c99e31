// The command service: re-exports (the server is in service.ts, the commands in commands.ts).
export { COMMAND_NAMES, type CommandName, HELP_TEXT, type ReplySink, runCommand } from "./commands.js";
export { reverseGraphemes } from "./graphemes.js";
export { parseRequest, type Request } from "./parser.js";
export {
  CMD_DEFAULT_PORT,
  type CmdFraming,
  type CmdOptions,
  cmdHandler,
  createCmdServer,
} from "./service.js";
