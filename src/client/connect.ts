// Opens a client socket (TCP or TLS) to a server, bounded by a connect timeout,
// and turns every way that can fail into an EchoplexError with a stable code.
import { readFileSync } from "node:fs";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { formatAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";

export interface ClientTlsOptions {
  /** PEM file(s) of the certificate authorities to trust instead of the system's. */
  caFile?: string;
  /** PEM text of the trusted authorities (library use; wins over caFile). */
  ca?: string | Buffer;
  /** Skip certificate verification (testing only). */
  insecure?: boolean;
  /** The name sent in SNI and checked against the certificate. Default: the host, if it is a name. */
  servername?: string;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Bound on TCP connect plus TLS handshake, in ms (0: none). Default 10 s. */
  timeoutMs?: number;
  /** Connect over TLS. */
  tls?: ClientTlsOptions;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|CERT_|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Maps a socket error (connect, TLS or later) to a typed error that names the server. */
export function socketError(err: NodeJS.ErrnoException, where: string): EchoplexError {
  const code = err.code ?? "";
  switch (code) {
    case "ECONNREFUSED":
      return new EchoplexError("ERR_CONNECTION_REFUSED", `connection to ${where} refused`, { cause: err });
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
    return new EchoplexError("ERR_TLS", `TLS with ${where} failed: ${err.message}`, { cause: err });
  }
  return new EchoplexError("ERR_CONNECT_FAILED", `cannot connect to ${where}: ${err.message}`, {
    cause: err,
  });
}

/** Resolves with a connected (and, for TLS, handshaken) socket, or rejects with a typed error. */
export function openSocket(options: ConnectOptions): Promise<Socket> {
  const where = formatAddress(options.host, options.port);
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
  return netConnect({ host: options.host, port: options.port, noDelay: true });
}

function tlsSocket(options: ConnectOptions, tls: ClientTlsOptions): Socket {
  let ca = tls.ca;
  if (ca === undefined && tls.caFile !== undefined) {
    try {
      ca = readFileSync(tls.caFile);
    } catch (err) {
      throw new EchoplexError("ERR_BAD_OPTION", `cannot read --ca ${tls.caFile}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  // SNI takes names only; an IP literal is checked against the certificate's IP SANs instead.
  const servername = tls.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
  const socket = tlsConnect({
    host: options.host,
    port: options.port,
    ca,
    servername,
    rejectUnauthorized: tls.insecure !== true,
  });
  socket.setNoDelay(true);
  return socket;
}
