// Small servers written for the bench tests: a line command server and a chat
// broadcast server (node:net), each on a free loopback port.
import { createServer, type Server, type Socket } from "node:net";

export interface TestServer {
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return {
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Calls `onLine` for every line of every connection (CR stripped). */
export function lineServer(onLine: (socket: Socket, line: string) => void): Server {
  return createServer((socket) => {
    let buf = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        onLine(socket, buf.slice(0, nl).replace(/\r$/, ""));
        buf = buf.slice(nl + 1);
      }
    });
    socket.on("error", () => {});
  });
}

/**
 * A chat server: `/nick NAME` names a client; any other line goes to every client
 * (the sender included) as `NAME: line`. `deliver` may refuse a delivery (to test losses).
 */
export function chatServer(deliver: (to: number, line: string) => boolean = () => true): Server {
  const clients = new Map<Socket, { nick: string; index: number }>();
  let next = 0;
  const server = lineServer((socket, line) => {
    const me = clients.get(socket)!;
    if (line.startsWith("/nick ")) {
      me.nick = line.slice(6);
      return;
    }
    const out = `${me.nick}: ${line}\n`;
    for (const [peer, info] of clients) if (deliver(info.index, line)) peer.write(out);
  });
  server.on("connection", (socket: Socket) => {
    clients.set(socket, { nick: `guest${next}`, index: next++ });
    socket.on("close", () => clients.delete(socket));
  });
  return server;
}
