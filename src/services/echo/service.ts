// The echo service: each line (or frame) comes back with a prefix, "ECHO: " by
// default; in raw mode bytes come back exactly as they arrived (RFC 862).
import { framingFor } from "../../codecs/framing-for.js";
import { createServer, type EchoplexServer, type Handler, type ServerOptions } from "../../core/server.js";

export const ECHO_DEFAULT_PORT = 8080;
export const ECHO_DEFAULT_PREFIX = "ECHO: ";
const SHUTDOWN_NOTICE = "NOTICE: server shutting down";

export type EchoMode = "lines" | "length" | "raw";

export interface EchoOptions
  extends Omit<ServerOptions<undefined>, "handler" | "framing" | "service" | "summary"> {
  /** Reply prefix for lines and frames. Default "ECHO: ". Ignored in raw mode. */
  prefix?: string;
  mode?: EchoMode;
  /** Longest line or frame accepted, in bytes. Default 64 KiB. */
  maxLineBytes?: number;
  /** @deprecated The old name of `maxLineBytes` (chat's `maxMessageBytes` is its longest chat message). */
  maxMessageBytes?: number;
}

export function echoHandler(prefix: string, mode: EchoMode): Handler<undefined> {
  const prefixBytes = mode === "raw" || prefix === "" ? undefined : Buffer.from(prefix);
  return {
    createState: () => undefined,
    // The payload is a view into the received chunk: it is queued, not copied.
    onMessage: (conn, payload) => conn.send(payload, prefixBytes),
    shutdownNotice: () => (mode === "raw" ? undefined : SHUTDOWN_NOTICE),
    errorNotice: (err) => (mode === "raw" ? undefined : `ERROR: ${err.message}`),
  };
}

export function createEchoServer(options: EchoOptions = {}): EchoplexServer<undefined> {
  const mode = options.mode ?? "lines";
  const { prefix, maxLineBytes, maxMessageBytes, mode: _mode, ...engine } = options;
  const replyPrefix = prefix ?? ECHO_DEFAULT_PREFIX;
  return createServer({
    ...engine,
    service: "echo",
    summary: mode === "raw" ? "raw" : `${mode}, prefix ${JSON.stringify(replyPrefix)}`,
    framing: framingFor(mode, maxLineBytes ?? maxMessageBytes),
    handler: echoHandler(replyPrefix, mode),
  });
}
