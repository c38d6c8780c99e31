// Test certificates made with the real openssl: a CA, a server certificate it signed,
// a client certificate it signed, and a client certificate from a CA nobody trusts.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
  /** PEM text of the CA, for clients. */
  caPem: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function makeCa(dir: string, name: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.crt`),
    "-subj",
    `/CN=${name}`,
    "-days",
    "2",
  ]);
}

async function makeSigned(dir: string, name: string, ca: string, ext: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), ext);
  await run("openssl", [
    "req",
    ...EC,
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.csr`),
    "-subj",
    `/CN=${name}`,
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    join(dir, `${name}.csr`),
    "-CA",
    join(dir, `${ca}.crt`),
    "-CAkey",
    join(dir, `${ca}.key`),
    "-CAcreateserial",
    "-out",
    join(dir, `${name}.crt`),
    "-days",
    "2",
    "-extfile",
    join(dir, `${name}.ext`),
  ]);
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), "echoplex-certs-"));
  await makeCa(dir, "ca");
  await makeCa(dir, "rogue-ca");
  await makeSigned(
    dir,
    "server",
    "ca",
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n",
  );
  await makeSigned(dir, "client", "ca", "extendedKeyUsage=clientAuth\n");
  await makeSigned(dir, "rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.crt"),
    clientKey: join(dir, "client.key"),
    rogueCert: join(dir, "rogue.crt"),
    rogueKey: join(dir, "rogue.key"),
    caPem: await readFile(join(dir, "ca.crt"), "utf8"),
  };
}

/** The server flags for mutual TLS with these certificates: its own pair, and client certificates required. */
export function mtlsServerFlags(certs: TestCerts): string[] {
  return [
    "--tls-cert",
    certs.serverCert,
    "--tls-key",
    certs.serverKey,
    "--tls-ca",
    certs.caCert,
    "--tls-require-client-cert",
  ];
}
