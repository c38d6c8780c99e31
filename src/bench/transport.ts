// Client connections for the load generator: TCP, TLS, Unix sockets and WebSockets,
// Nagle off, and an abortive close (RST) so that thousands of benchmark connections
// leave no TIME_WAIT.
import { connect as netConnect, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { socketError } from "../client/connect.js";
import { formatAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";
import { type BenchTarget, type ConnTarget, formatTarget } from "./options.js";
import { dialWs } from "./ws-link.js";

/** Where a connection's bytes go when it reads into the shared buffer instead of emitting 'data'. */
interface ReadSink {
  onData(chunk: Buffer): void;
}

/**
 * One read buffer for every plain-TCP benchmark connection (net's `onread`): reads
 * are handled one at a time and the codecs copy what they keep, so no per-read
 * allocation is needed. Bun and TLS sockets use 'data' events instead.
 */
const SHARED_READ_BUFFER_BYTES = 64 * 1024;
let sharedReadBuffer: Buffer | undefined;
/** The last view of it handed on, reused for a read of the same length (ping-pong: every read). */
let sharedReadView: Buffer | undefined;
const onreadSupported = process.versions.bun === undefined;

/**
 * Opens a connection and resolves once it is usable (after the TLS or WebSocket
 * handshake). With `sink`, received bytes (over a WebSocket: each message) go to
 * `sink.onData` (through the shared read buffer where possible).
 */
export async function dial(target: ConnTarget, timeoutMs = 10_000, sink?: ReadSink): Promise<Duplex> {
  if (target.transport !== "ws") return dialStream(target, timeoutMs, sink);
  const link = await dialWs(target, timeoutMs);
  if (sink !== undefined) link.on("data", (message: Buffer) => sink.onData(message));
  return link;
}

function dialStream(target: Exclude<ConnTarget, { transport: "ws" }>, timeoutMs: number, sink?: ReadSink) {
  return new Promise<Socket>((resolve, reject) => {
    const tls = target.transport === "unix" ? undefined : target.tls;
    const shared = sink !== undefined && tls === undefined && onreadSupported;
    if (shared) sharedReadBuffer ??= Buffer.allocUnsafe(SHARED_READ_BUFFER_BYTES);
    const where =
      target.transport === "unix" ? { path: target.path } : { host: target.host, port: target.port };
    const servername =
      tls?.servername ?? (target.transport === "unix" || isIpLiteral(target.host) ? undefined : target.host);
    const socket: Socket = tls
      ? tlsConnect({
          ...where,
          rejectUnauthorized: !tls.insecure,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          ...(servername === undefined ? {} : { servername }),
        })
      : netConnect({
          ...where,
          ...(shared
            ? {
                onread: {
                  buffer: sharedReadBuffer!,
                  callback: (n: number, buf: Uint8Array) => {
                    let view = sharedReadView;
                    if (view === undefined || view.length !== n)
                      view = sharedReadView = (buf as Buffer).subarray(0, n);
                    sink.onData(view);
                    return true;
                  },
                },
              }
            : {}),
        });
    if (sink !== undefined && !shared) socket.on("data", (chunk: Buffer) => sink.onData(chunk));
    const event = tls ? "secureConnect" : "connect";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EchoplexError("ERR_TIMEOUT", `connect to ${formatTarget(target)} timed out`));
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once("error", onError);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off("error", onError);
      if (target.transport !== "unix") socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/** Closes with RST where the runtime can (no TIME_WAIT), else destroys. */
export function closeHard(socket: Duplex): void {
  if (!(socket instanceof Socket)) {
    socket.destroy();
    return;
  }
  const withReset = socket as Socket & { resetAndDestroy?: () => Socket };
  if (typeof withReset.resetAndDestroy === "function" && !socket.destroyed && socket.readyState === "open") {
    try {
      withReset.resetAndDestroy();
      return;
    } catch {
      // fall through to destroy()
    }
  }
  socket.destroy();
}

/** The client certificate a target presents, if any (a refusal of it reads differently). */
export function clientCertOf(target: ConnTarget): string | undefined {
  return target.transport === "unix" ? undefined : target.tls?.cert;
}

/** Where a target is, for messages: `host:port` over TCP (TLS or not), else its address form. */
export function whereOf(target: BenchTarget): string {
  const tcp = target.transport === undefined || target.transport === "tcp";
  return tcp ? formatAddress(target.host, target.port) : formatTarget(target);
}

/**
 * The one-line error for a run that could not get going: TLS failures keep their own
 * code (ERR_TLS, exit 7, as for the client); every other failure to reach the server is
 * ERR_CONNECT_FAILED, with the reason in words.
 */
export function connectFailure(err: unknown, where: string): EchoplexError {
  if (EchoplexError.is(err) && (err.code === "ERR_TLS" || err.code === "ERR_CONNECT_FAILED")) return err;
  const typed = EchoplexError.is(err)
    ? err
    : err instanceof Error
      ? socketError(err as NodeJS.ErrnoException, where)
      : new EchoplexError("ERR_CONNECT_FAILED", `cannot connect to ${where}: ${String(err)}`);
  if (typed.code === "ERR_TLS") return typed;
  const code = (err as { code?: unknown } | null)?.code;
  const why =
    typeof code === "string" && ERRNO_WORDS[code] !== undefined
      ? `${ERRNO_WORDS[code]} (${code})`
      : typed.message;
  return new EchoplexError("ERR_CONNECT_FAILED", `cannot connect to ${where}: ${why}`, { cause: err });
}

/** Node's "connect ECONNREFUSED 127.0.0.1:8080" in words (the address is said once, before). */
const ERRNO_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
};

/** node:tls servers refuse a client certificate by closing right after the handshake, with no alert. */
export function certificateRefused(where: string): EchoplexError {
  return new EchoplexError(
    "ERR_TLS",
    `TLS with ${where} failed: the server closed the connection right after the handshake; it probably refused the client certificate (is --cert signed by a CA it trusts?)`,
  );
}

/** Whether an error is a TLS failure (the server refused us, or we it). */
export function isTlsFailure(err: unknown): boolean {
  return err instanceof Error && connectFailure(err, "").code === "ERR_TLS";
}

/** The kind an error is counted under: its errno code, else its name. */
export function errorKind(err: unknown): string {
  if (EchoplexError.is(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? err.name : "error";
}

/** Dials `count` connections with at most `parallel` in flight; failures are reported, not thrown. */
export async function dialAll(
  target: ConnTarget,
  count: number,
  parallel: number,
  onFailure: (err: unknown) => void,
  sinks?: readonly ReadSink[],
): Promise<Array<Duplex | undefined>> {
  const sockets: Array<Duplex | undefined> = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      try {
        sockets[i] = await dial(target, 10_000, sinks?.[i]);
      } catch (err) {
        onFailure(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return sockets;
}
