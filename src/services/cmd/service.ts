// The command service: one request per line (or frame), one reply each
// (ECHO, UPPER, LOWER, REVERSE, TIME, PING, HELP, QUIT); see docs/protocols.md.
import { framingFor } from "../../codecs/framing-for.js";
import { createServer, type EchoplexServer, type Handler, type ServerOptions } from "../../core/server.js";
import { runCommand, unknownCommand } from "./commands.js";
import { newScan, scanRequest } from "./parser.js";

export const CMD_DEFAULT_PORT = 8082;
const SHUTDOWN_NOTICE = "NOTICE: server shutting down";

export type CmdFraming = "lines" | "length";

export interface CmdOptions
  extends Omit<ServerOptions<undefined>, "handler" | "framing" | "service" | "summary"> {
  framing?: CmdFraming;
  /** Longest request line or frame accepted, in bytes. Default 64 KiB. */
  maxLineBytes?: number;
  /** @deprecated The old name of `maxLineBytes` (chat's `maxMessageBytes` is its longest chat message). */
  maxMessageBytes?: number;
}

export function cmdHandler(): Handler<undefined> {
  // Handlers run one at a time: one scan object serves every request of every connection.
  const scan = newScan();
  return {
    createState: () => undefined,
    onMessage(conn, message) {
      // A datagram or WebSocket message typed at nc -u or a browser ends in a newline
      // that a line codec would have taken off: take it off here.
      const payload = conn.transport === "udp" || conn.transport === "ws" ? withoutLineEnd(message) : message;
      scanRequest(payload, scan);
      if (scan.kind === "empty") return;
      if (scan.kind === "unknown") {
        conn.send(unknownCommand(payload, scan.wordStart, scan.wordEnd));
        return;
      }
      const quit = runCommand(scan.name, payload, scan.textStart, conn);
      // BYE is queued first; the engine flushes it, then half-closes. Later requests in the same read are dropped.
      if (quit) conn.close("closed by service");
    },
    shutdownNotice: () => SHUTDOWN_NOTICE,
    errorNotice: (err) => `ERROR: ${err.message}`,
  };
}

export function createCmdServer(options: CmdOptions = {}): EchoplexServer<undefined> {
  const { framing, maxLineBytes, maxMessageBytes, ...engine } = options;
  return createServer({
    ...engine,
    service: "cmd",
    framing: framingFor(framing ?? "lines", maxLineBytes ?? maxMessageBytes),
    handler: cmdHandler(),
  });
}

/** `payload` without one trailing LF or CRLF. */
function withoutLineEnd(payload: Buffer): Buffer {
  const n = payload.length;
  if (n === 0 || payload[n - 1] !== 0x0a) return payload;
  return payload.subarray(0, n >= 2 && payload[n - 2] === 0x0d ? n - 2 : n - 1);
}
