// The echo service: re-exports (the code is in service.ts).
export {
  createEchoServer,
  ECHO_DEFAULT_PORT,
  ECHO_DEFAULT_PREFIX,
  type EchoMode,
  type EchoOptions,
  echoHandler,
} from "./service.js";
