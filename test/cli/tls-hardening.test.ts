// TLS hardening through the real CLI, with the real openssl s_client as the peer:
// client-initiated renegotiation is refused on every service, CBC suites are not offered.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, metric, scrape } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";

const run = promisify(execFile);
let clis: RunningCli[] = [];

afterEach(async () => {
  await Promise.all(clis.map((c) => c.stop("SIGKILL")));
  clis = [];
});

async function cli(args: string[], count = 1): Promise<RunningCli> {
  const c = await startCli([...args, "--log-format", "json"], { count });
  clis.push(c);
  return c;
}

/**
 * An interactive `openssl s_client` (no -quiet, so a line `R` makes it renegotiate and
 * `K` makes it update its TLS 1.3 keys). Its stdin stays open: only the server can end it.
 */
function interactiveSClient(port: number, extra: string[]) {
  const proc = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...extra]);
  let out = "";
  let exitCode: number | null | undefined;
  proc.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  proc.stderr.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  proc.stdin.on("error", () => {}); // EPIPE once s_client has exited
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", (code) => {
      exitCode = code;
      resolve();
    });
  });
  return {
    output: () => out,
    /** undefined while s_client runs. */
    exitCode: () => exitCode,
    /** One write per line: s_client only takes `R` or `K` as a command when it comes alone. */
    send: (line: string) => {
      if (exitCode === undefined) proc.stdin.write(line);
    },
    /** Polls (bounded) until `done` holds or s_client exits; true if `done` held. */
    async until(done: () => boolean, timeoutMs = 15_000): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (!done() && exitCode === undefined && Date.now() < deadline) {
        await Promise.race([exited, new Promise((r) => setTimeout(r, 25))]);
      }
      return done();
    },
    async stop(): Promise<void> {
      if (exitCode === undefined) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Matches `count` occurrences of `what` in `text`. */
function occurrences(text: string, what: string): number {
  return text.split(what).length - 1;
}

interface RenegotiationCase {
  service: string;
  args: string[];
  /** A request, and what its reply contains; then another after the renegotiation attempt. */
  first: [string, string];
  after: [string, string];
  sClient?: string[];
}

const CASES: RenegotiationCase[] = [
  { service: "echo", args: [], first: ["hello\n", "ECHO: hello"], after: ["after\n", "ECHO: after"] },
  { service: "cmd", args: [], first: ["UPPER hello\n", "HELLO"], after: ["UPPER after\n", "AFTER"] },
  {
    service: "chat",
    args: [],
    first: ["/nick alice\n", "is now known as alice"],
    after: ["/nick after\n", "is now known as after"],
  },
  { service: "sink", args: ["--ack"], first: ["hello\n", "OK 1"], after: ["after\n", "OK 2"] },
  {
    service: "http",
    args: ["--delay", "0"],
    first: ["GET /status/200 HTTP/1.1\nHost: x\n\n", "HTTP/1.1 200"],
    after: ["GET /status/201 HTTP/1.1\nHost: x\n\n", "HTTP/1.1 201"],
    // HTTP wants CRLF line ends; s_client turns each typed LF into one.
    sClient: ["-crlf"],
  },
];

describe("client-initiated TLS renegotiation", () => {
  it.each(CASES)(
    "$service --tls-self-signed: an openssl s_client `R` ends the connection, logged at warn and counted",
    async ({ service, args, first, after, sClient }) => {
      const server = await cli(
        [service, "127.0.0.1:0", "--tls-self-signed", "--admin", "127.0.0.1:0", ...args],
        2,
      );
      const port = server.ports[service]!;
      const admin = server.ports.admin!;
      const client = interactiveSClient(port, ["-tls1_2", ...(sClient ?? [])]);
      try {
        client.send(first[0]);
        expect(await client.until(() => client.output().includes(first[1]))).toBe(true);
        client.send("R\n");
        expect(await client.until(() => client.output().includes("RENEGOTIATING"))).toBe(true);
        client.send(after[0]);
        // Before the fix the renegotiation succeeded and `after` was answered.
        await client.until(() => client.output().includes(after[1]) || client.exitCode() !== undefined);
        expect(client.output()).not.toContain(after[1]);
        expect(client.exitCode()).toBeDefined(); // the server closed: s_client ended by itself
        expect(occurrences(client.output(), first[1])).toBe(1);
      } finally {
        await client.stop();
      }
      await expect
        .poll(() => server.stderr(), { timeout: 10_000 })
        .toMatch(
          /"level":40,[^\n]*"code":"ERR_TLS_RENEGOTIATION"[^\n]*"msg":"TLS renegotiation refused, closing"/,
        );
      await eventually(async () => {
        const samples = await scrape(admin);
        return metric(samples, "echoplex_errors_total", { service, code: "ERR_TLS_RENEGOTIATION" }) === 1;
      }, "echoplex_errors_total{code=ERR_TLS_RENEGOTIATION} 1");

      // The server itself is unharmed: the next client is served.
      const next = interactiveSClient(port, ["-tls1_2", ...(sClient ?? [])]);
      try {
        next.send(first[0]);
        expect(await next.until(() => next.output().includes(first[1]))).toBe(true);
      } finally {
        await next.stop();
      }
      expect(await server.stop()).toBe(0);
    },
  );

  it("TLS 1.3 key updates (s_client `K`) are not renegotiation: the connection stays served", async () => {
    const echo = await cli(["echo", "127.0.0.1:0", "--tls-self-signed"]);
    const client = interactiveSClient(echo.port, ["-tls1_3"]);
    try {
      client.send("hello\n");
      expect(await client.until(() => client.output().includes("ECHO: hello"))).toBe(true);
      client.send("K\n");
      expect(await client.until(() => client.output().includes("KEYUPDATE"))).toBe(true);
      client.send("after\n");
      expect(await client.until(() => client.output().includes("ECHO: after"))).toBe(true);
    } finally {
      await client.stop();
    }
    expect(echo.stderr()).not.toContain("TLS renegotiation refused");
  });
});

/** Runs a non-interactive s_client handshake (stdin empty) and reports the cipher it got. */
async function negotiated(port: number, args: string[]): Promise<string> {
  const { stdout } = await run(
    "bash",
    ["-c", `openssl s_client -connect 127.0.0.1:${port} ${args.join(" ")} </dev/null 2>&1 || true`],
    { timeout: 15_000 },
  );
  return /Cipher is (\S+)/.exec(stdout)?.[1] ?? stdout;
}

describe("cipher suites", () => {
  it("a CBC-only TLS 1.2 client fails the handshake; GCM, ChaCha20 and TLS 1.3 succeed (EC certificate)", async () => {
    const echo = await cli(["echo", "127.0.0.1:0", "--tls-self-signed"]);
    for (const cbc of ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"]) {
      expect(await negotiated(echo.port, ["-tls1_2", "-cipher", cbc])).toBe("(NONE)");
    }
    for (const aead of ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"]) {
      expect(await negotiated(echo.port, ["-tls1_2", "-cipher", aead])).toBe(aead);
    }
    expect(await negotiated(echo.port, ["-tls1_3"])).toMatch(/^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
  });

  it("with an RSA certificate: neither static-RSA nor ECDHE CBC suites are accepted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "echoplex-rsa-"));
    const [cert, key] = [join(dir, "rsa.crt"), join(dir, "rsa.key")];
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=localhost",
      "-days",
      "2",
    ]);
    const http = await cli(["http", "127.0.0.1:0", "--delay", "0", "--tls-cert", cert, "--tls-key", key]);
    for (const cbc of ["AES128-SHA256", "AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"]) {
      expect(await negotiated(http.port, ["-tls1_2", "-cipher", cbc])).toBe("(NONE)");
    }
    // Static RSA key exchange (no forward secrecy) is gone too, GCM or not.
    expect(await negotiated(http.port, ["-tls1_2", "-cipher", "AES128-GCM-SHA256"])).toBe("(NONE)");
    expect(await negotiated(http.port, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"])).toBe(
      "ECDHE-RSA-AES128-GCM-SHA256",
    );
    // The server's order wins (honorCipherOrder): a client listing AES-256 first gets AES-128.
    expect(
      await negotiated(http.port, [
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
      ]),
    ).toBe("ECDHE-RSA-AES128-GCM-SHA256");
  });

  it("--tls-ciphers replaces the list; a list OpenSSL does not know stops the start-up", async () => {
    const echo = await cli([
      "echo",
      "127.0.0.1:0",
      "--tls-self-signed",
      "--tls-ciphers",
      "ECDHE-ECDSA-AES128-SHA256",
    ]);
    expect(await negotiated(echo.port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"])).toBe(
      "ECDHE-ECDSA-AES128-SHA256",
    );
    const bad = await runCli(["echo", "127.0.0.1:0", "--tls-self-signed", "--tls-ciphers", "NOPE-CIPHER"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^echoplex: error: TLS setup failed: .*cipher.* \(ERR_TLS_CONFIG\)\n$/i);
    const plain = await runCli(["echo", "127.0.0.1:0", "--tls-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("--tls-ciphers need a server certificate");
  });

  it("serve: `tls.ciphers` in the config file is the --tls-ciphers twin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "echoplex-ciphers-"));
    const config = join(dir, "serve.json");
    const tls = { selfSigned: true, ciphers: "ECDHE-ECDSA-AES256-SHA384" };
    await writeFile(config, JSON.stringify({ services: { echo: { address: "127.0.0.1:0", tls } } }));
    const serve = await cli(["serve", "--config", config]);
    const port = serve.ports.echo!;
    expect(await negotiated(port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384"])).toBe(
      "ECDHE-ECDSA-AES256-SHA384",
    );
    expect(await negotiated(port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"])).toBe("(NONE)");
  });
});
