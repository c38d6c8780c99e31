// The listen address forms of every door: `8080`, `host:port` and `tcp://host:port`
// (TCP, with TLS when the server has TLS options), `tls://host:port`, `unix:/path`
// (`unix:@name`: Linux's abstract namespace), `udp://host:port`, `ws://host:port/path`
// and `wss://…` (WebSocket, without and with TLS). Which listener
// serves each form is the engine's choice (server.ts); this file only parses.
import { EchoplexError } from "../errors.js";
import { type Address, formatAddress, parseAddress } from "./address.js";

export type ListenAddress =
  /** `tls` undefined: TLS exactly when the server has TLS options (the bare forms). */
  | { transport: "tcp"; address: Address; tls: boolean | undefined }
  | { transport: "unix"; path: string }
  | { transport: "udp"; address: Address }
  /** `ws://host:port/path` (`wss://`: with TLS); `path` starts with a slash. */
  | { transport: "ws"; address: Address; path: string; tls: boolean };

/** Parses a listen address; a bare or URL form without a port takes `defaultPort` when given. */
export function parseListenAddress(input: string | number | Address, defaultPort?: number): ListenAddress {
  if (typeof input === "number") return { transport: "tcp", address: parseAddress(input), tls: undefined };
  if (typeof input === "object") return { transport: "tcp", address: input, tls: undefined };
  const text = input.trim();
  if (text.startsWith("unix:")) return { transport: "unix", path: unixPath(text.slice(5), input) };
  const scheme = /^([a-z]+):\/\/(.*)$/i.exec(text);
  if (scheme === null) return { transport: "tcp", address: parseAddress(text, defaultPort), tls: undefined };
  const [, name, rest] = scheme as unknown as [string, string, string];
  const slash = rest.indexOf("/");
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "/" : rest.slice(slash);
  const address = parseAddress(hostPort, defaultPort);
  const lower = name.toLowerCase();
  if (lower === "ws" || lower === "wss") return { transport: "ws", address, path, tls: lower === "wss" };
  if (path !== "/") {
    throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": only ws:// and wss:// take a path`);
  }
  switch (lower) {
    case "tcp":
      return { transport: "tcp", address, tls: false };
    case "tls":
      return { transport: "tcp", address, tls: true };
    case "udp":
      return { transport: "udp", address };
    default:
      throw new EchoplexError(
        "ERR_BAD_ADDRESS",
        `bad address "${input}": unknown scheme "${name}" (tcp://, tls://, udp://, ws://, wss://, unix:)`,
      );
  }
}

/** `/path` as is; `@name` becomes the abstract socket name (a leading NUL byte). */
function unixPath(rest: string, input: string): string {
  if (rest === "" || rest === "@")
    throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": no path`);
  return rest.startsWith("@") ? `\0${rest.slice(1)}` : rest;
}

/** A unix path as people write it: `unix:/run/echo.sock`, `unix:@name`. */
export function formatUnixPath(path: string): string {
  return path.startsWith("\0") ? `unix:@${path.slice(1)}` : `unix:${path}`;
}

/** A listen address as people write it. */
export function formatListenAddress(target: ListenAddress): string {
  switch (target.transport) {
    case "unix":
      return formatUnixPath(target.path);
    case "udp":
      return `udp://${formatAddress(target.address.host, target.address.port)}`;
    case "tcp":
      return formatAddress(target.address.host, target.address.port);
    case "ws":
      return `${target.tls ? "wss" : "ws"}://${formatAddress(target.address.host, target.address.port)}${target.path}`;
  }
}
