// IRC users for the chat's IRC door tests: irc-framework (a real IRC library, from npm)
// recording every line the server sends, and a raw socket for lines no library sends.
import { connect, type Socket } from "node:net";
import irc, { type Client, type ConnectOptions } from "irc-framework";
import { type RunningCli, startCli } from "./cli.js";

export interface IrcUser {
  client: Client;
  /** Lines from the server, in order. */
  lines: string[];
  /** Waits until a line (received after `from`, default the start) matches; returns it. */
  waitFor(re: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  matching(re: RegExp): string[];
}

async function poll<T>(get: () => T | undefined, what: () => string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = get();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((r) => setTimeout(r, 20));
  }
}

function recorder(lines: string[], waitMs: number) {
  return {
    lines,
    matching: (re: RegExp) => lines.filter((l) => re.test(l)),
    waitFor: (re: RegExp, from = 0, timeoutMs = waitMs) =>
      poll(
        () => lines.slice(from).find((l) => re.test(l)),
        () => `no line matched ${re}; got:\n${lines.join("\n")}`,
        timeoutMs,
      ),
  };
}

/** An irc-framework client connected to `port`; `clients` collects it for the test to quit. */
export function ircUser(
  port: number,
  nick: string,
  clients: Client[],
  options: Partial<ConnectOptions> & { caps?: string[] } = {},
  waitMs = 20_000,
): IrcUser {
  const client = new irc.Client();
  clients.push(client);
  const lines: string[] = [];
  client.on("raw", (event: { line: string; from_server: boolean }) => {
    if (event.from_server) lines.push(event.line.replace(/\r?\n$/, ""));
  });
  if (options.caps !== undefined) client.requestCap(options.caps);
  client.connect({
    host: "127.0.0.1",
    port,
    nick,
    username: nick,
    gecos: nick,
    auto_reconnect: false,
    ...options,
  });
  return { client, ...recorder(lines, waitMs) };
}

export interface RawIrc {
  socket: Socket;
  send(line: string): void;
  lines: string[];
  closed: Promise<void>;
  waitFor(re: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  matching(re: RegExp): string[];
}

/** A raw TCP socket speaking IRC lines (CRLF), for what a library would not send. */
export function rawIrc(port: number, sockets: Socket[], waitMs = 20_000): RawIrc {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  const lines: string[] = [];
  let partial = "";
  socket.setEncoding("utf8").on("data", (d: string) => {
    const parts = (partial + d).split(/\r?\n/);
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, send: (line) => socket.write(`${line}\r\n`), closed, ...recorder(lines, waitMs) };
}

/** `echoplex chat` with an nc door and an IRC door; both ports. */
export async function startChatWithIrc(
  args: string[],
  clis: RunningCli[],
): Promise<{ cli: RunningCli; tcp: number; irc: number }> {
  const cli = await startCli(["chat", "127.0.0.1:0", "--irc", "127.0.0.1:0", ...args], { count: 1 });
  clis.push(cli);
  const port = (re: RegExp) => Number(cli.stdout().match(re)?.[1] ?? 0);
  const ports = () => ({
    tcp: port(/listening on 127\.0\.0\.1:(\d+) /),
    irc: port(/listening on irc:\/\/127\.0\.0\.1:(\d+) /),
  });
  const deadline = Date.now() + 20_000;
  while (ports().tcp === 0 || ports().irc === 0) {
    if (Date.now() > deadline) throw new Error(`no tcp and irc:// doors in ${cli.stdout()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { cli, ...ports() };
}
