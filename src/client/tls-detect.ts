// A plain-text client pointed at a TLS port learns little from the server: OpenSSL-based
// servers (node:tls, openssl s_server) send no alert for bytes that are not TLS; they
// close without a word, or wait for more. Other servers answer with a TLS alert record.
// These helpers recognise both, so that the user is told to add --tls instead of
// getting a silent exit 0.
import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { EchoplexError } from "../errors.js";

/** Bounded: the probe runs only on the way out of a session that already failed to make sense. */
export const TLS_PROBE_TIMEOUT_MS = 3000;

const HINT = "connect with --tls (and --ca FILE, or --insecure for a self-signed certificate)";

/** A TLS record header: alert (21) or handshake (22), protocol version 3.0 to 3.4. */
export function looksLikeTls(bytes: Buffer): boolean {
  return bytes.length >= 3 && (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03 && bytes[2]! <= 4;
}

/** Watches what a plain connection receives: whether anything came, and whether it began like TLS. */
export class PlainTextWatch {
  /** Bytes received so far. */
  received = 0;
  /** Whether anything was sent: a TLS server stays silent until it has bytes to reject. */
  sentAny = false;
  private head: Buffer[] = [];

  /** Accounts a chunk; true when the first bytes of the stream are a TLS record header. */
  onData(chunk: Buffer): boolean {
    const before = this.received;
    this.received += chunk.length;
    if (before >= 3) return false;
    this.head.push(chunk);
    if (this.received < 3) return false;
    const head = Buffer.concat(this.head);
    this.head = [];
    return looksLikeTls(head);
  }
}

/** The error for a server that speaks TLS to a client that does not. */
export function tlsExpected(where: string, what: string): EchoplexError {
  return new EchoplexError("ERR_TLS", `${where} speaks TLS (${what}); ${HINT}`);
}

/**
 * Whether host:port speaks TLS: a handshake (certificate not checked) completes, or the
 * server answers with a TLS alert. Anything else, or no answer in time, is a no.
 */
export function speaksTls(host: string, port: number, timeoutMs = TLS_PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      rejectUnauthorized: false,
      servername: isIP(host) === 0 ? host : undefined,
    });
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (yes: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    socket.once("secureConnect", () => done(true));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      done(/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(err.code ?? "")),
    );
    socket.once("close", () => done(false));
  });
}
