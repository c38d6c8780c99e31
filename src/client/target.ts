// Where the client connects: every door's address form (the listen forms, read by
// parseListenAddress) turned into connect options, and the target's name in messages.
import { formatAddress } from "../core/address.js";
import { formatUnixPath, parseListenAddress } from "../core/listen-address.js";
import { EchoplexError } from "../errors.js";

/** The doors a client can knock on. */
export type ClientTransport = "tcp" | "unix" | "ws" | "udp";

/** What names a target: the fields of ConnectOptions that say where. */
export interface TargetFields {
  host: string;
  port: number;
  transport?: ClientTransport;
  path?: string;
}

/** A parsed client address; `tls` is true when the form says so (`tls://`, `wss://`). */
export interface ClientTarget extends TargetFields {
  transport: ClientTransport;
  tls: boolean;
}

/** Reads `host:port`, `PORT`, `tcp://`, `tls://`, `unix:/path`, `unix:@name`, `udp://`, `ws://…/path`, `wss://`. */
export function parseClientTarget(input: string): ClientTarget {
  const parsed = parseListenAddress(input);
  if (parsed.transport === "unix")
    return { transport: "unix", host: "", port: 0, path: parsed.path, tls: false };
  if (parsed.address.port === 0) {
    throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": a client needs the server's port`);
  }
  const host = parsed.address.host ?? "localhost";
  const { port } = parsed.address;
  switch (parsed.transport) {
    case "tcp":
      return { transport: "tcp", host, port, tls: parsed.tls === true };
    case "udp":
      return { transport: "udp", host, port, tls: false };
    case "ws":
      return { transport: "ws", host, port, path: parsed.path, tls: parsed.tls };
  }
}

/** Whether the door carries whole messages (no byte stream: no framing, no half-close). */
export function carriesMessages(transport: ClientTransport | undefined): boolean {
  return transport === "ws" || transport === "udp";
}

/** The target as people write it: `host:port`, `unix:/path`, `udp://host:port`, `ws://host:port/path`. */
export function targetName(target: TargetFields, tls = false): string {
  const hostPort = formatAddress(target.host, target.port);
  switch (target.transport) {
    case "unix":
      return formatUnixPath(target.path ?? "");
    case "udp":
      return `udp://${hostPort}`;
    case "ws":
      return `${tls ? "wss" : "ws"}://${hostPort}${target.path ?? "/"}`;
    default:
      return hostPort;
  }
}
