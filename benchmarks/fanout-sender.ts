// The sender side of the chat fan-out benchmark (benchmarks/chat-irc-fanout.ts): an nc
// user named `sender` in #lobby, and a probe that reads one line of each dialect to learn
// its length in bytes as a receiver gets it.
import { connect, type Socket } from "node:net";

export interface Sender {
  write(lines: string): Promise<void>;
  close(): void;
}

/** Connects, waits until the user is in #lobby (nc: the join line; IRC: 366), returns the socket. */
export async function joined(port: number, kind: "nc" | "irc", nick: string): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  if (kind === "irc") socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :r\r\nJOIN #lobby\r\n`);
  const ready = kind === "irc" ? " 366 " : "joined";
  await new Promise<void>((resolve) => {
    let seen = "";
    const onData = (d: Buffer) => {
      seen += d.toString("latin1");
      if (seen.includes(ready)) {
        socket.off("data", onData);
        resolve();
      }
    };
    socket.on("data", onData);
  });
  return socket;
}

export async function connectSender(port: number): Promise<Sender> {
  const socket = await joined(port, "nc", "s");
  socket.write("/nick sender\n");
  return {
    async write(lines) {
      if (!socket.write(lines)) await new Promise((r) => socket.once("drain", r));
    },
    close: () => socket.destroy(),
  };
}

/** The length in bytes (with its line end) of `m 0` from `sender` as a receiver of `kind` gets it. */
export async function probeLine(receiverPort: number, ncPort: number, kind: "nc" | "irc"): Promise<number> {
  const receiver = await joined(receiverPort, kind, "probe");
  const sender = await connectSender(ncPort);
  const marker = kind === "irc" ? " PRIVMSG #lobby :m 0\r\n" : "<sender> m 0\n";
  const line = await new Promise<string>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no ${kind} probe line: ${seen}`)), 10_000);
    receiver.on("data", (d: Buffer) => {
      seen += d.toString("latin1");
      const end = seen.indexOf(marker);
      if (end < 0) return;
      clearTimeout(timer);
      resolve(seen.slice(seen.lastIndexOf("\n", end) + 1, end + marker.length));
    });
    setTimeout(() => void sender.write("m 0\n"), 200); // after the rename
  });
  receiver.destroy();
  sender.close();
  return Buffer.byteLength(line, "latin1");
}
