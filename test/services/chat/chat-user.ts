// A chat user over a real socket, for the chat tests: read lines up to a pattern,
// and "sync" (a /rooms round trip) to collect everything received before it.
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { connectClient, type TestClient } from "../../helpers/net.js";

export class ChatUser {
  constructor(
    readonly client: TestClient,
    public nick: string,
  ) {}

  say(line: string): void {
    this.client.send(line);
  }

  /** Reads lines until one matches; returns the lines before it and the match. */
  async until(pattern: RegExp | string, timeoutMs = 10_000): Promise<{ before: string[]; line: string }> {
    const before: string[] = [];
    for (;;) {
      const line = await this.client.readLine(timeoutMs).catch((err: Error) => {
        // Name what did arrive: a timeout after "! nick taken" is a different bug from silence.
        throw new Error(`${err.message} matching ${String(pattern)}; skipped ${JSON.stringify(before)}`);
      });
      const hit = typeof pattern === "string" ? line === pattern : pattern.test(line);
      if (hit) return { before, line };
      before.push(line);
    }
  }

  /** Everything received before the answer to a fresh /rooms, which the server queues after all earlier output. */
  async sync(): Promise<string[]> {
    this.client.send("/rooms");
    return (await this.until(/^\* rooms: /)).before;
  }

  close(): void {
    this.client.destroy();
  }
}

/** Connects and reads the welcome; with `nick`, renames and waits for the confirmation. */
export async function joinChat(port: number, nick?: string): Promise<ChatUser> {
  const client = await connectClient(port);
  const welcome = await client.readLine(10_000);
  const m = /^\* Welcome to echoplex chat, (\S+)! You are in (\S+)\./.exec(welcome);
  if (!m) throw new Error(`unexpected welcome: ${welcome}`);
  const user = new ChatUser(client, m[1]!);
  await user.until(`* ${user.nick} joined ${m[2]}`);
  if (nick !== undefined) {
    const old = user.nick;
    user.say(`/nick ${nick}`);
    await user.until(`* ${old} is now known as ${nick}`);
    user.nick = nick;
  }
  return user;
}

/** Chat servers (the real CLI on loopback port 0) and users a test starts, stopped together after it. */
export class ChatRun {
  private readonly servers: RunningCli[] = [];
  private readonly users: ChatUser[] = [];

  /** Starts `echoplex chat` with `args`; returns its port. */
  async server(...args: string[]): Promise<number> {
    const cli = await startCli(["chat", "127.0.0.1:0", ...args]);
    this.servers.push(cli);
    return cli.port;
  }

  async user(port: number, nick?: string): Promise<ChatUser> {
    const u = await joinChat(port, nick);
    this.users.push(u);
    return u;
  }

  async stop(): Promise<void> {
    for (const u of this.users.splice(0)) u.close();
    await Promise.all(this.servers.splice(0).map((s) => s.stop("SIGKILL")));
  }
}
