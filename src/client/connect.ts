// Opens a client stream socket (TCP, TLS or Unix) to a server, bounded by a connect
// timeout, and turns every way that can fail into an EchoplexError with a stable code.
import { readFileSync } from "node:fs";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { EchoplexError } from "../errors.js";
import { type ClientTransport, targetName } from "./target.js";

export interface ClientTlsOptions {
  /** PEM file(s) of the certificate authorities to trust instead of the system's. */
  caFile?: string;
  /** PEM text of the trusted authorities (library use; wins over caFile). */
  ca?: string | Buffer;
  /** Skip certificate verification (testing only). */
  insecure?: boolean;
  /** The name sent in SNI and checked against the certificate. Default: the host, if it is a name. */
  servername?: string;
  /** PEM file of the client certificate (chain) for mutual TLS; needs keyFile. */
  certFile?: string;
  /** PEM file of the client certificate's private key. */
  keyFile?: string;
  /** PEM text of the client certificate and key (library use; win over the files). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface ConnectOptions {
  /** The server's host and port (unused for `transport: "unix"`). */
  host: string;
  port: number;
  /**
   * Which door: `tcp` (the default; TLS with `tls`), `unix` (a stream socket at `path`),
   * `ws` (WebSocket at the URL path `path`; wss with `tls`), `udp` (a datagram per message).
   */
  transport?: ClientTransport;
  /** The Unix socket's path (a leading NUL: abstract), or the WebSocket URL path (default `/`). */
  path?: string;
  /** Bound on TCP connect plus TLS handshake, in ms (0: none). Default 10 s. */
  timeoutMs?: number;
  /** Connect over TLS. */
  tls?: ClientTlsOptions;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|CERT_|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Maps a socket error (connect, TLS or later) to a typed error that names the server. */
export function socketError(err: NodeJS.ErrnoException, where: string): EchoplexError {
  // The message doors type their own errors (a WebSocket handshake refused, a close code).
  if (EchoplexError.is(err)) return err;
  const code = err.code ?? "";
  switch (code) {
    case "ECONNREFUSED":
      return new EchoplexError("ERR_CONNECTION_REFUSED", `connection to ${where} refused`, { cause: err });
    case "ENOENT":
      // A Unix socket path with no socket file: nothing listens there either.
      return new EchoplexError("ERR_CONNECTION_REFUSED", `connection to ${where} refused: no such socket`, {
        cause: err,
      });
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return new EchoplexError("ERR_HOST_UNREACHABLE", `cannot resolve the host of ${where} (${code})`, {
        cause: err,
      });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
    case "EADDRNOTAVAIL":
      return new EchoplexError("ERR_HOST_UNREACHABLE", `${where} is unreachable (${code})`, { cause: err });
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return new EchoplexError("ERR_CONNECTION_RESET", `connection to ${where} reset by the server`, {
        cause: err,
      });
    case "ETIMEDOUT":
      return new EchoplexError("ERR_TIMEOUT", `connection to ${where} timed out`, { cause: err });
  }
  if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(err.message)) {
    return new EchoplexError("ERR_TLS", `TLS with ${where} failed: ${tlsReason(err)}`, { cause: err });
  }
  return new EchoplexError("ERR_CONNECT_FAILED", `cannot connect to ${where}: ${err.message}`, {
    cause: err,
  });
}

/**
 * What the peer said, for OpenSSL's alert codes, with the flag that helps; otherwise the
 * reason from OpenSSL's multi-field dump (`…:error:0A00045C:SSL routines:…:tlsv13 alert
 * certificate required:../deps/…:SSL alert number 116`), which no user should have to read.
 */
const TLS_REASONS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    "the server requires a client certificate (give --cert FILE --key FILE)",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    "the server does not trust the client certificate's CA (give --cert and --key of a certificate it trusts)",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the server refused the client certificate",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "the server refused the client certificate",
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: "the server refused the client certificate (access denied)",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE:
    "the server refused the handshake (no common protocol or cipher, or a client certificate it requires)",
  ERR_SSL_WRONG_VERSION_NUMBER: "the server does not speak TLS on this port (drop --tls)",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "the server does not speak TLS on this port (drop --tls)",
};
const UNTRUSTED =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?)$/;

/** One readable line for a TLS error. */
export function tlsReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? "";
  const known = TLS_REASONS[code];
  if (known !== undefined) return known;
  if (UNTRUSTED.test(code)) return `${err.message} (trust its CA with --ca FILE, or --insecure for testing)`;
  const dump = /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:\n]+)/.exec(err.message);
  return dump?.[1] ?? err.message.trim();
}

/** Resolves with a connected (and, for TLS, handshaken) socket, or rejects with a typed error. */
export function openSocket(options: ConnectOptions): Promise<Socket> {
  const where = targetName(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise<Socket>((resolve, reject) => {
    let socket: Socket;
    try {
      socket = options.tls === undefined ? plainSocket(options) : tlsSocket(options, options.tls);
    } catch (err) {
      reject(err);
      return;
    }
    const ready = options.tls === undefined ? "connect" : "secureConnect";
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      socket.off(ready, onReady);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    const onReady = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      cleanup();
      socket.destroy();
      reject(socketError(err, where));
    };
    const onClose = () => {
      cleanup();
      reject(new EchoplexError("ERR_CONNECTION_RESET", `connection to ${where} closed during connect`));
    };
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        cleanup();
        socket.destroy();
        reject(new EchoplexError("ERR_TIMEOUT", `connection to ${where} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    socket.once(ready, onReady);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

function plainSocket(options: ConnectOptions): Socket {
  if (options.transport === "unix") return netConnect({ path: options.path ?? "" });
  return netConnect({ host: options.host, port: options.port, noDelay: true });
}

/** Reads a PEM file named by a flag; a missing or unreadable file is a usage error. */
export function readPemFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new EchoplexError("ERR_BAD_OPTION", `cannot read ${flag} ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** What node:tls (or the WebSocket client) needs to verify the server and show a client certificate. */
export interface TlsMaterial {
  ca: string | Buffer | undefined;
  cert: string | Buffer | undefined;
  key: string | Buffer | undefined;
  servername: string | undefined;
  rejectUnauthorized: boolean;
}

/** Reads the files the TLS flags name; a missing file or a half client certificate is a usage error. */
export function tlsMaterial(host: string, tls: ClientTlsOptions): TlsMaterial {
  const ca = tls.ca ?? (tls.caFile === undefined ? undefined : readPemFile("--ca", tls.caFile));
  const cert = tls.cert ?? (tls.certFile === undefined ? undefined : readPemFile("--cert", tls.certFile));
  const key = tls.key ?? (tls.keyFile === undefined ? undefined : readPemFile("--key", tls.keyFile));
  if ((cert === undefined) !== (key === undefined)) {
    throw new EchoplexError("ERR_BAD_OPTION", "a client certificate needs both --cert and --key");
  }
  // SNI takes names only; an IP literal is checked against the certificate's IP SANs instead.
  const servername = tls.servername ?? (isIP(host) === 0 ? host : undefined);
  return { ca, cert, key, servername, rejectUnauthorized: tls.insecure !== true };
}

/** Bad PEM, or a key that does not belong to the certificate: node throws before connecting. */
export function unusableTlsFiles(err: unknown): EchoplexError {
  const reason = tlsReason(err as NodeJS.ErrnoException);
  const what = /key values mismatch/.test(reason)
    ? "--key does not belong to --cert"
    : "cannot use the TLS files";
  return new EchoplexError("ERR_BAD_OPTION", `${what}: ${reason}`, { cause: err });
}

function tlsSocket(options: ConnectOptions, tls: ClientTlsOptions): Socket {
  const material = tlsMaterial(options.host, tls);
  let socket: Socket;
  try {
    socket = tlsConnect({ host: options.host, port: options.port, ...material });
  } catch (err) {
    throw unusableTlsFiles(err);
  }
  socket.setNoDelay(true);
  return socket;
}
