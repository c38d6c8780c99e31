// The client at a real terminal: tmux gives it a pseudo-terminal; keys are sent
// with send-keys and the screen is read with capture-pane.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Connection } from "../../src/core/connection.js";
import { createServer, type EchoplexServer } from "../../src/core/server.js";
import { cmdHandler } from "../../src/services/cmd/index.js";
import { CLI, startCli } from "../helpers/cli.js";
import { type TmuxTerminal, tail, tmuxTerminal } from "../helpers/tmux.js";

let sockets = 0;
const SESSION = "client";
let term: TmuxTerminal;

const tmux = (...args: string[]) => term.tmux(...args);
const screen = () => term.screen();
const waitForScreen = (predicate: (lines: string[]) => boolean, what: string) =>
  term.waitForScreen(predicate, what);
const exitStatus = () => term.exitStatus();

let server: EchoplexServer<undefined>;
let peers: Connection<undefined>[];

async function startClient(...flags: string[]): Promise<number> {
  const { port } = await server.listen("127.0.0.1:0");
  term.start(`"${process.execPath}" "${CLI}" client 127.0.0.1:${port} ${flags.join(" ")}`);
  return port;
}

function newServer(): EchoplexServer<undefined> {
  const base = cmdHandler();
  return createServer({
    service: "cmd",
    handler: {
      ...base,
      onConnect: (conn) => {
        peers.push(conn);
      },
    },
  });
}

beforeEach(() => {
  // A tmux server of our own per test, apart from anyone else's.
  term = tmuxTerminal(`echoplex-test-${process.pid}-${++sockets}`, SESSION);
  peers = [];
  server = newServer();
});

afterEach(async () => {
  term.kill();
  await server.shutdown({ drainTimeoutMs: 500 });
});

describe("echoplex client at a terminal (tmux)", () => {
  it("shows the prompt, replies as '< …', a server line arriving while typing, and history", async () => {
    await startClient();
    await waitForScreen((l) => l.at(-1) === ">", "the prompt");
    expect(screen().join("\n")).toMatch(/connected to 127\.0\.0\.1:\d+ \(lines\); \/quit or Ctrl-D to leave/);

    tmux("send-keys", "-t", SESSION, "PING", "Enter");
    await waitForScreen(tail(["> PING", "< PONG", ">"]), "the reply under the request, then the prompt");

    // Half a line typed, then the server speaks on its own.
    tmux("send-keys", "-t", SESSION, "-l", "UPPER hel");
    await waitForScreen((l) => l.at(-1) === "> UPPER hel", "the typed text");
    await waitUntilPeers(1);
    peers[0]!.send("NOTICE: a broadcast while you type");
    // The server line sits above the prompt, and what was typed is intact on the prompt line.
    await waitForScreen(
      tail(["> PING", "< PONG", "< NOTICE: a broadcast while you type", "> UPPER hel"]),
      "the server line above the half-typed line",
    );

    tmux("send-keys", "-t", SESSION, "-l", "lo");
    tmux("send-keys", "-t", SESSION, "Enter");
    await waitForScreen(tail(["> UPPER hello", "< HELLO", ">"]), "the reply to the completed line");

    // History: Up brings back the last line.
    tmux("send-keys", "-t", SESSION, "Up");
    await waitForScreen((l) => l.at(-1) === "> UPPER hello", "the recalled line");
    tmux("send-keys", "-t", SESSION, "C-u");
    tmux("send-keys", "-t", SESSION, "-l", "/quit");
    tmux("send-keys", "-t", SESSION, "Enter");
    expect(await exitStatus()).toBe("0");
  });

  it("reports the server closing the connection and exits 0", async () => {
    await startClient();
    await waitForScreen((l) => l.at(-1) === ">", "the prompt");
    tmux("send-keys", "-t", SESSION, "-l", "QUIT");
    tmux("send-keys", "-t", SESSION, "Enter");
    const lines = await waitForScreen(
      (l) => l.some((x) => /connection closed by 127\.0\.0\.1:\d+/.test(x)),
      "the close",
    );
    expect(lines.join("\n")).toMatch(/> QUIT\n< BYE\nconnection closed by 127\.0\.0\.1:\d+$/m);
    expect(await exitStatus()).toBe("0");
  });

  it("Ctrl-C leaves at once with exit 130", async () => {
    await startClient();
    await waitForScreen((l) => l.at(-1) === ">", "the prompt");
    tmux("send-keys", "-t", SESSION, "-l", "half a line");
    tmux("send-keys", "-t", SESSION, "C-c");
    expect(await exitStatus()).toBe("130");
  });

  it("Ctrl-D ends the session", async () => {
    await startClient();
    await waitForScreen((l) => l.at(-1) === ">", "the prompt");
    tmux("send-keys", "-t", SESSION, "C-d");
    expect(await exitStatus()).toBe("0");
  });

  it("--reconnect: a lost connection is reported, re-established, and the session goes on", async () => {
    const port = await startClient("--reconnect");
    await waitForScreen((l) => l.at(-1) === ">", "the prompt");
    await waitUntilPeers(1);
    peers[0]!.close();
    const lines = await waitForScreen(
      (l) => l.some((x) => /^reconnected to 127\.0\.0\.1:\d+$/.test(x)),
      "the reconnection",
    );
    expect(lines.join("\n")).toMatch(/connection closed by 127\.0\.0\.1:\d+; reconnecting\n/);
    tmux("send-keys", "-t", SESSION, "-l", "PING");
    tmux("send-keys", "-t", SESSION, "Enter");
    await waitForScreen((l) => l.includes("< PONG"), "the reply on the new connection");
    expect(peers).toHaveLength(2);

    // The server goes away for a while: the retries are reported above the prompt.
    await server.shutdown({ drainTimeoutMs: 1000 });
    const retrying = await waitForScreen(
      (l) => l.some((x) => /refused; retrying in \d+ ms \(attempt 2\)$/.test(x)) && l.at(-1) === ">",
      "the retries",
    );
    expect(retrying.join("\n")).toMatch(
      /< NOTICE: server shutting down\nconnection closed by .*; reconnecting\n/,
    );
    server = newServer();
    await server.listen(`127.0.0.1:${port}`);
    await waitForScreen(
      (l) => l.filter((x) => x.startsWith("reconnected to")).length === 2,
      "the second reconnection",
    );
    tmux("send-keys", "-t", SESSION, "-l", "UPPER back");
    tmux("send-keys", "-t", SESSION, "Enter");
    await waitForScreen((l) => l.includes("< BACK"), "a reply from the new server");
    tmux("send-keys", "-t", SESSION, "C-d");
    expect(await exitStatus()).toBe("0");
  });
});

describe("echoplex client at a terminal, plain, at a TLS port", () => {
  it("a line typed gets the port closed without a word: says it speaks TLS, prompt taken down, exit 7", async () => {
    const tls = await startCli(["echo", "127.0.0.1:0", "--tls-self-signed", "--log-level", "warn"]);
    try {
      term.start(`"${process.execPath}" "${CLI}" client 127.0.0.1:${tls.port}`, 200);
      await waitForScreen((l) => l.at(-1) === ">", "the prompt");
      tmux("send-keys", "-t", SESSION, "-l", "hello world");
      tmux("send-keys", "-t", SESSION, "Enter");
      expect(await exitStatus()).toBe("7");
      expect(screen().join("\n")).toMatch(
        /^> hello world\nechoplex: error: 127\.0\.0\.1:\d+ speaks TLS \(it closed the plain-text connection without a word\); connect with --tls .*\(ERR_TLS\)\nclient exited: 7$/m,
      );
    } finally {
      await tls.stop("SIGKILL");
    }
  });
});

async function waitUntilPeers(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (peers.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} connections, got ${peers.length}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
