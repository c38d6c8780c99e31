// A TLS test client: connect, send, and collect what comes back until the server closes.
import { readFileSync } from "node:fs";
import { connect, type PeerCertificate } from "node:tls";

export interface TlsExchange {
  data: string;
  /** The handshake or read error, if any (a refused client certificate, say). */
  error?: string;
  fingerprint256?: string;
  /** True when nothing ended the exchange before timeoutMs. */
  timedOut: boolean;
}

export function tlsExchange(
  port: number,
  send: string,
  options: {
    ca?: string;
    cert?: string;
    key?: string;
    insecure?: boolean;
    until?: RegExp;
    timeoutMs?: number;
  } = {},
): Promise<TlsExchange> {
  return new Promise((resolve) => {
    const socket = connect({
      port,
      host: "127.0.0.1",
      servername: "localhost",
      rejectUnauthorized: options.insecure !== true,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.cert === undefined
        ? {}
        : { cert: readFileSync(options.cert), key: readFileSync(options.key!) }),
    });
    const result: TlsExchange = { data: "", timedOut: false };
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      done();
    }, options.timeoutMs ?? 5000);
    socket.once("secureConnect", () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      result.fingerprint256 = cert.fingerprint256;
      socket.write(send);
    });
    socket.on("data", (d: Buffer) => {
      result.data += d.toString();
      if (options.until?.test(result.data)) done();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      result.error = err.code ?? err.message;
      done();
    });
    socket.on("close", done);
  });
}
