// Where bench sends its load, from what the user typed: the listen address forms of
// every door (`host:port`, `tcp://`, `tls://`, `unix:/path`, `ws://host:port/path`,
// `wss://`, `udp://`) read as connect targets, with the TLS flags applied.
import { parseListenAddress } from "../core/listen-address.js";
import { EchoplexError } from "../errors.js";
import type { BenchMode, BenchTarget, BenchTls } from "./options.js";

const bad = (message: string) => new EchoplexError("ERR_BAD_OPTION", message);
/** A target without a host is a server on this machine. */
const LOCAL = "127.0.0.1";

/**
 * Parses a bench target. `tls` holds the TLS flags, if any were given: they turn a bare
 * `host:port` into TLS, go with `tls://` and `wss://`, and are refused where the scheme
 * says otherwise (`tcp://`, `ws://`, `unix:`, `udp://`), so a flag never silently does nothing.
 */
export function parseBenchTarget(text: string, tls: BenchTls | undefined): BenchTarget {
  const parsed = parseListenAddress(text);
  const noTls = (why: string) => {
    if (tls !== undefined) throw bad(`TLS flags do not apply to ${text}: ${why}`);
  };
  switch (parsed.transport) {
    case "unix":
      noTls("a Unix socket is not encrypted");
      return { transport: "unix", path: parsed.path };
    case "udp":
      noTls("bench has no DTLS");
      return { transport: "udp", host: parsed.address.host ?? LOCAL, port: parsed.address.port };
    case "ws": {
      if (!parsed.tls) noTls("use wss:// for TLS");
      const host = parsed.address.host ?? LOCAL;
      const { port } = parsed.address;
      if (!parsed.tls) return { transport: "ws", host, port, path: parsed.path };
      return { transport: "ws", host, port, path: parsed.path, tls: tls ?? { insecure: false } };
    }
    case "tcp": {
      if (parsed.tls === false) noTls("use tls:// for TLS");
      const host = parsed.address.host ?? LOCAL;
      const { port } = parsed.address;
      const secure = parsed.tls === true ? (tls ?? { insecure: false }) : tls;
      return secure === undefined ? { host, port } : { host, port, tls: secure };
    }
  }
}

/** The modes each kind of target carries; the rest are refused with one line before any load. */
export function checkModeFits(mode: BenchMode, target: BenchTarget, text: string): void {
  const transport = target.transport ?? "tcp";
  if (transport === "udp" && mode !== "echo" && mode !== "script") {
    throw bad(`bench ${mode} does not run over UDP (${text}): only echo and script do`);
  }
  if (transport === "ws" && mode === "chat") {
    throw bad(`bench chat does not run over WebSocket (${text}): use the server's TCP or unix: door`);
  }
}
