// `echoplex client ADDRESS`: an interactive client at a terminal, a line pipe otherwise,
// on every door (TCP, TLS, Unix, WebSocket, UDP).
import { Command, Option } from "commander";
import type { ClientTlsOptions } from "../../client/connect.js";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../../client/connect.js";
import { DEFAULT_UDP_WAIT_MS } from "../../client/message-link.js";
import { DEFAULT_CLIENT_MAX_LINE, DEFAULT_WAIT_MS, runClientSession } from "../../client/session.js";
import { parseClientTarget } from "../../client/target.js";
import { EchoplexError } from "../../errors.js";
import { parseCount, parseDuration, parseSize } from "../units.js";

interface ClientFlags {
  framing: "lines" | "length";
  timeout: number;
  wait: number;
  udpWait: number;
  binary?: boolean;
  reconnect?: boolean;
  retries: number;
  maxLine: number;
  tls?: boolean;
  ca?: string;
  insecure?: boolean;
  servername?: string;
  cert?: string;
  key?: string;
}

const DEFAULT_RETRIES = 10;

export function clientCommand(): Command {
  const cmd = new Command("client")
    .description("connect to a line (or length-prefixed) server: interactive at a terminal, a pipe otherwise")
    .argument(
      "<address>",
      "server to connect to: HOST:PORT, [IPv6]:PORT, PORT for localhost, tls://, unix:/path, unix:@name, udp://HOST:PORT, ws://HOST:PORT/path, wss://",
    )
    .addOption(
      new Option(
        "--framing <framing>",
        "message framing on stream addresses: LF-terminated lines or 4-byte length prefix (ws:// and udp:// carry whole messages)",
      )
        .choices(["lines", "length"])
        .default("lines"),
    )
    .addOption(
      new Option("--timeout <duration>", "give up connecting (TCP + TLS handshake) after this")
        .argParser((v) => parseDuration(v, "--timeout"))
        .default(DEFAULT_CONNECT_TIMEOUT_MS, `${DEFAULT_CONNECT_TIMEOUT_MS / 1000}s`),
    )
    .addOption(
      new Option("--wait <duration>", "after the input ends, wait this long for the server's last replies")
        .argParser((v) => parseDuration(v, "--wait"))
        .default(DEFAULT_WAIT_MS, `${DEFAULT_WAIT_MS / 1000}s`),
    )
    .addOption(
      new Option(
        "--udp-wait <duration>",
        "udp:// and ws://: after the input ends, hang up once no message has come for this long",
      )
        .argParser((v) => parseDuration(v, "--udp-wait"))
        .default(DEFAULT_UDP_WAIT_MS, `${DEFAULT_UDP_WAIT_MS / 1000}s`),
    )
    .option("--binary", "ws://: send each line as a binary message instead of text")
    .option("--reconnect", "retry a failed connect with backoff (at a terminal, also a lost connection)")
    .addOption(
      new Option("--retries <n>", "with --reconnect: attempts after the first (0: no limit)")
        .argParser((v) => parseCount(v, "--retries"))
        .default(DEFAULT_RETRIES),
    )
    .addOption(
      new Option("--max-line <size>", "longest reply (and input line) accepted")
        .argParser((v) => parseSize(v, "--max-line"))
        .default(DEFAULT_CLIENT_MAX_LINE, "1m"),
    )
    .option("--tls", "connect over TLS")
    .option("--ca <file>", "trust the certificate authorities in this PEM file (implies --tls)")
    .option("--insecure", "do not verify the server's certificate (implies --tls; testing only)")
    .option(
      "--servername <name>",
      "TLS server name (SNI, and the name checked in the certificate; implies --tls)",
    )
    .option(
      "--cert <file>",
      "client certificate (PEM) for servers that require one: mutual TLS (implies --tls)",
    )
    .option("--key <file>", "the client certificate's private key (PEM; with --cert)");
  cmd.addHelpText(
    "after",
    `
Exit codes:
  0 done (input ended or the server closed)   1 other failure   2 bad usage
  3 connection refused   4 host unreachable or unknown   5 connection reset
  6 timeout   7 TLS failure   130 interrupted (Ctrl-C)

Examples:
  echoplex client localhost:8082                          interactive: "> " prompt, replies as "< …"
  printf 'ECHO a\\nUPPER b\\n' | echoplex client localhost:8082   prints the two replies, exits 0
  echoplex client localhost:8080 --framing length         length-prefixed frames
  echoplex client unix:/run/echoplex.sock                 a Unix socket
  printf 'a\nb\n' | echoplex client ws://localhost:8090/    a WebSocket message per line
  echo hello | echoplex client udp://localhost:8080       a datagram per line
  echoplex client example.org:8443 --tls --ca ca.pem      TLS, trusting ca.pem
  echoplex client localhost:8443 --ca ca.pem --cert client.crt --key client.key   mutual TLS`,
  );
  return cmd.action(async (address: string, flags: ClientFlags) => {
    const target = parseClientTarget(address);
    if (flags.binary === true && target.transport !== "ws") {
      throw new EchoplexError("ERR_BAD_OPTION", "--binary is for WebSocket addresses (ws://, wss://)");
    }
    const useTls =
      target.tls ||
      flags.tls === true ||
      flags.ca !== undefined ||
      flags.insecure === true ||
      flags.servername !== undefined ||
      flags.cert !== undefined ||
      flags.key !== undefined;
    let tls: ClientTlsOptions | undefined;
    if (useTls) {
      tls = {};
      if (flags.ca !== undefined) tls.caFile = flags.ca;
      if (flags.insecure === true) tls.insecure = true;
      if (flags.servername !== undefined) tls.servername = flags.servername;
      if (flags.cert !== undefined) tls.certFile = flags.cert;
      if (flags.key !== undefined) tls.keyFile = flags.key;
    }
    const code = await runClientSession({
      host: target.host,
      port: target.port,
      transport: target.transport,
      ...(target.path === undefined ? {} : { path: target.path }),
      binary: flags.binary === true,
      udpWaitMs: flags.udpWait,
      timeoutMs: flags.timeout,
      tls,
      framing: flags.framing,
      maxLineBytes: flags.maxLine,
      waitMs: flags.wait,
      retries: flags.reconnect === true ? flags.retries : undefined,
      input: process.stdin,
      output: process.stdout,
      interactive: process.stdin.isTTY === true,
      notice: (text) => process.stderr.write(`echoplex: ${text}\n`),
    });
    // Exit once stdout has taken every reply (a pipe may still hold some).
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    process.exit(code);
  });
}
