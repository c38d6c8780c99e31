// Parses the listen/connect address forms users type: `8080`, `:8080`,
// `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`, `0`.
import { isIP } from "node:net";
import { EchoplexError } from "../errors.js";

export interface Address {
  /** Undefined means "all interfaces" when listening. */
  readonly host: string | undefined;
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function parsePort(text: string, input: string): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new EchoplexError(
      "ERR_BAD_ADDRESS",
      `bad address "${input}": port must be a number from 0 to 65535`,
    );
  }
  const port = Number(text);
  if (port > 65535) {
    throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": port ${port} is above 65535`);
  }
  return port;
}

/**
 * Parses an address. A bare host (no port) takes `defaultPort`.
 * Throws EchoplexError(ERR_BAD_ADDRESS) with a message that quotes the input.
 */
export function parseAddress(input: string | number, defaultPort?: number): Address {
  if (typeof input === "number") return { host: undefined, port: parsePort(String(input), String(input)) };
  const text = input.trim();
  if (text === "") throw new EchoplexError("ERR_BAD_ADDRESS", "bad address: empty");
  if (/^\d+$/.test(text)) return { host: undefined, port: parsePort(text, input) };
  if (text.startsWith(":")) return { host: undefined, port: parsePort(text.slice(1), input) };

  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": missing "]"`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}"`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) {
      throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": "${host}" is not an IPv6 address`);
    }
  } else if (isIP(text) === 6) {
    host = text; // a bare IPv6 address without brackets has no port
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else {
      host = text;
    }
    if (isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw new EchoplexError(
        "ERR_BAD_ADDRESS",
        `bad address "${input}": "${host}" is not a host name or IP`,
      );
    }
  }
  if (portText === undefined) {
    if (defaultPort === undefined) {
      throw new EchoplexError("ERR_BAD_ADDRESS", `bad address "${input}": missing port`);
    }
    return { host, port: defaultPort };
  }
  return { host, port: parsePort(portText, input) };
}

/** Formats an address for people: `127.0.0.1:8080`, `[::1]:8080`, `*:8080`. */
export function formatAddress(host: string | undefined, port: number): string {
  if (host === undefined || host === "" || host === "::" || host === "0.0.0.0") return `*:${port}`;
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
