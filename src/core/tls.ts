// Server-side TLS settings: a certificate from files or one generated at start-up,
// optional client-certificate verification, checked before any socket is opened.
import type { X509Certificate } from "node:crypto";
import { hostname } from "node:os";
import type { TlsOptions } from "node:tls";
import { EchoplexError } from "../errors.js";

/** Where the server's certificate comes from. */
export type CertificateSource =
  | { kind: "files"; certFile: string; keyFile: string }
  /** Generated in memory at start-up, valid for `hosts` (default: localhost, 127.0.0.1, ::1, this host's name). */
  | { kind: "self-signed"; hosts?: string[] };

/** How peers' certificates are checked: not asked for, asked for, or required. */
export type ClientCertPolicy = "none" | "optional" | "required";

export interface ServerTlsConfig {
  certificate: CertificateSource;
  /** CA bundle (PEM file) that client certificates must chain to. Needed for "optional" and "required". */
  caFile?: string;
  clientCerts?: ClientCertPolicy;
  /** A peer that has not finished its handshake after this long is dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** OpenSSL cipher list (TLS 1.3 and 1.2 suite names) replacing DEFAULT_TLS_CIPHERS. */
  ciphers?: string;
}

/** Loaded, checked TLS settings, ready for createServer({ tls: options }). */
export interface ServerTls {
  options: TlsOptions;
  /** SHA-256 fingerprint of the server certificate, `AB:CD:…` as openssl and browsers show it. */
  fingerprint256: string;
  selfSigned: boolean;
  /** The names the certificate is valid for. */
  names: string[];
  clientCerts: ClientCertPolicy;
  /** The certificate in PEM, for clients that should trust exactly it. */
  certPem: string;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Forward-secret AEAD suites only, in Node's own order: Node's default list also offers
 * CBC suites on TLS 1.2, open to padding-oracle attacks (LUCKY13), CCM/ARIA, and with an
 * RSA key static-RSA key exchange. Every client of the last decade speaks one of these.
 */
export const DEFAULT_TLS_CIPHERS = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_GCM_SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
].join(":");

/**
 * The hardening every TLS listener applies under the caller's own options: the cipher
 * list above, in our order rather than the client's, so what a connection gets does not
 * depend on what its client happens to list first.
 */
export function withTlsDefaults<T extends TlsOptions>(options: T): T {
  return { ciphers: DEFAULT_TLS_CIPHERS, honorCipherOrder: true, ...options };
}

/** Reads or generates the certificate, checks that key, certificate and CA fit together. */
export async function loadServerTls(config: ServerTlsConfig): Promise<ServerTls> {
  const policy = config.clientCerts ?? "none";
  if (policy !== "none" && config.caFile === undefined) {
    throw new EchoplexError(
      "ERR_TLS_CONFIG",
      "verifying client certificates needs a CA (--tls-ca FILE) to check them against",
    );
  }
  const hosts = config.certificate.kind === "self-signed" ? (config.certificate.hosts ?? defaultHosts()) : [];
  const { cert, key } =
    config.certificate.kind === "files"
      ? {
          cert: await readPem(config.certificate.certFile, "certificate"),
          key: await readPem(config.certificate.keyFile, "key"),
        }
      : await selfSigned(hosts);
  const ca = config.caFile === undefined ? undefined : await readPem(config.caFile, "CA");
  // Imported here: every CLI start-up reads this module (the defaults), and node:tls and
  // node:crypto cost about 3 MiB of RSS to a server that serves no TLS.
  const [{ X509Certificate }, { createSecureContext }] = await Promise.all([
    import("node:crypto"),
    import("node:tls"),
  ]);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new EchoplexError("ERR_TLS_CONFIG", `the certificate is not a PEM X.509 certificate`, {
      cause: err,
    });
  }
  const options: TlsOptions = {
    ...withTlsDefaults({}),
    ...(config.ciphers === undefined ? {} : { ciphers: config.ciphers }),
    cert,
    key,
    handshakeTimeout: config.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ...(ca === undefined ? {} : { ca }),
    ...(policy === "none" ? {} : { requestCert: true, rejectUnauthorized: policy === "required" }),
  };
  try {
    // Fails now, with a clear message, on a key that does not match or a broken CA file.
    createSecureContext(options);
  } catch (err) {
    throw new EchoplexError("ERR_TLS_CONFIG", `TLS setup failed: ${(err as Error).message}`, { cause: err });
  }
  return {
    options,
    fingerprint256: x509.fingerprint256,
    selfSigned: config.certificate.kind === "self-signed",
    names:
      hosts.length > 0
        ? hosts
        : (x509.subjectAltName ?? x509.subject)
            .split(/,\s*|\n/)
            .map((n) => n.replace(/^(DNS:|IP Address:|CN=)/, ""))
            .filter((n) => n !== ""),
    clientCerts: policy,
    certPem: cert,
  };
}

/** One line for start-up output: what the certificate is and how to recognise it. */
export function describeServerTls(tls: ServerTls): string {
  const origin = tls.selfSigned ? "self-signed certificate" : "certificate";
  const clients = tls.clientCerts === "none" ? "" : `, client certificates ${tls.clientCerts}`;
  return `TLS ${origin} for ${tls.names.join(", ")}${clients}, SHA-256 fingerprint ${tls.fingerprint256}`;
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    const { readFile } = await import("node:fs/promises");
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new EchoplexError("ERR_TLS_CONFIG", `cannot read TLS ${what} file ${file} (${code})`, {
      cause: err,
    });
  }
}

function defaultHosts(): string[] {
  return [...new Set(["localhost", "127.0.0.1", "::1", hostname()])];
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]*)$/;

async function selfSigned(hosts: string[]): Promise<{ cert: string; key: string }> {
  // Loaded only when asked for: its crypto dependencies cost every other start-up memory.
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: hosts[0] ?? "localhost" }], {
    // An EC key: generated in milliseconds, where RSA-2048 takes a noticeable fraction of a second.
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 30 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: hosts.map((h) =>
          IP.test(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h },
        ),
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
