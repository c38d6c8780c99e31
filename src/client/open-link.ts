// Opens the client's link to a server through the door its address names: a stream
// socket (TCP, TLS, Unix) or a message link (WebSocket, UDP), each a Duplex the
// sessions read and write alike.
import type { Duplex } from "node:stream";
import { EchoplexError } from "../errors.js";
import { type ConnectOptions, openSocket } from "./connect.js";
import { DEFAULT_UDP_WAIT_MS } from "./message-link.js";
import { targetName } from "./target.js";
import { openUdp } from "./udp-link.js";
import { openWebSocket } from "./ws-link.js";

export interface LinkOptions extends ConnectOptions {
  /** WebSocket: send binary messages instead of text. */
  binary?: boolean;
  /** WebSocket and UDP: after the input ends, hang up once no message has come for this long (ms). Default 1 s. */
  udpWaitMs?: number;
}

/** Resolves with a connected link, or rejects with a typed error. */
export function openLink(options: LinkOptions): Promise<Duplex> {
  const transport = options.transport ?? "tcp";
  if (options.tls !== undefined && (transport === "unix" || transport === "udp")) {
    return Promise.reject(
      new EchoplexError(
        "ERR_BAD_OPTION",
        `TLS is for tcp and WebSocket addresses (tls://, wss://), not ${targetName(options)}`,
      ),
    );
  }
  const quietMs = options.udpWaitMs ?? DEFAULT_UDP_WAIT_MS;
  switch (transport) {
    case "ws":
      return openWebSocket({ ...options, quietMs });
    case "udp":
      return openUdp({ ...options, quietMs });
    default:
      return openSocket(options);
  }
}
