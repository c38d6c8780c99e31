// The client at a real terminal (tmux) on the other doors: unix:, ws:// and udp://
// against the cmd service started through the library.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Connection } from "../../src/core/connection.js";
import { createServer, type EchoplexServer } from "../../src/core/server.js";
import { cmdHandler } from "../../src/services/cmd/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { CLI } from "../helpers/cli.js";
import { type TmuxTerminal, tail, tmuxTerminal } from "../helpers/tmux.js";

let terminals = 0;
let term: TmuxTerminal;
let server: EchoplexServer<undefined>;
let peers: Connection<undefined>[];
const dir = mkdtempSync(join(tmpdir(), "echoplex-client-tty-"));

function client(address: string, ...flags: string[]): void {
  // Wide: a temporary socket path makes the connected line long.
  term.start(`"${process.execPath}" "${CLI}" client ${address} ${flags.join(" ")}`, 200);
}

beforeEach(() => {
  term = tmuxTerminal(`echoplex-doors-${process.pid}-${++terminals}`, "client");
  peers = [];
  const base = cmdHandler();
  server = createServer({ service: "cmd", handler: { ...base, onConnect: (conn) => void peers.push(conn) } });
});

afterEach(async () => {
  term.kill();
  await server.shutdown({ drainTimeoutMs: 500 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Types a line and waits for the screen to end with `want` (the reply, then the prompt). */
async function exchange(line: string, want: string[]): Promise<void> {
  term.tmux("send-keys", "-t", "client", "-l", line);
  term.tmux("send-keys", "-t", "client", "Enter");
  await term.waitForScreen(tail(want), `the reply to ${line}`);
}

describe("echoplex client at a terminal on every door", () => {
  it("unix: prompt, replies, a server line while typing, /quit", async () => {
    const path = join(dir, "cmd.sock");
    await server.listen(`unix:${path}`);
    client(`unix:${path}`);
    await term.waitForScreen((l) => l.at(-1) === ">", "the prompt");
    expect(term.screen().join("\n")).toContain(`connected to unix:${path} (lines); /quit or Ctrl-D to leave`);
    await exchange("PING", ["> PING", "< PONG", ">"]);
    term.tmux("send-keys", "-t", "client", "-l", "/quit");
    term.tmux("send-keys", "-t", "client", "Enter");
    expect(await term.exitStatus()).toBe("0");
  });

  it("ws://: each line a message, each message a '< ' line; a line the server sends on its own; Ctrl-D", async () => {
    const { port } = await server.listen("ws://127.0.0.1:0/");
    client(`ws://127.0.0.1:${port}/`);
    await term.waitForScreen((l) => l.at(-1) === ">", "the prompt");
    expect(term.screen().join("\n")).toContain(`connected to ws://127.0.0.1:${port}/ (messages)`);
    await exchange("UPPER hello", ["> UPPER hello", "< HELLO", ">"]);
    peers[0]!.send("NOTICE: pushed");
    await term.waitForScreen(tail(["< HELLO", "< NOTICE: pushed", ">"]), "the pushed message");
    term.tmux("send-keys", "-t", "client", "C-d");
    expect(await term.exitStatus()).toBe("0");
  });

  it("ws://: the server closing with a code is said in words", async () => {
    const echo = createEchoServer({ wsMaxMessageBytes: 10 });
    try {
      const { port } = await echo.listen("ws://127.0.0.1:0/");
      client(`ws://127.0.0.1:${port}/`);
      await term.waitForScreen((l) => l.at(-1) === ">", "the prompt");
      await exchange("short", ["> short", "< ECHO: short", ">"]);
      term.tmux("send-keys", "-t", "client", "-l", "much too long for ten bytes");
      term.tmux("send-keys", "-t", "client", "Enter");
      expect(await term.exitStatus()).toBe("0");
      expect(term.screen().join("\n")).toContain("closed by server: 1009 message too big");
    } finally {
      await echo.shutdown({ drainTimeoutMs: 500 });
    }
  });

  it("udp://: each line a datagram, each datagram a '< ' line; Ctrl-D leaves after --udp-wait", async () => {
    const { port } = await server.listen("udp://127.0.0.1:0");
    client(`udp://127.0.0.1:${port}`, "--udp-wait", "200ms");
    await term.waitForScreen((l) => l.at(-1) === ">", "the prompt");
    await exchange("ECHO one datagram", ["> ECHO one datagram", "< ECHO: one datagram", ">"]);
    await exchange("REVERSE abc", ["> REVERSE abc", "< cba", ">"]);
    term.tmux("send-keys", "-t", "client", "C-d");
    expect(await term.exitStatus()).toBe("0");
  });
});
