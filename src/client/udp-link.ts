// The client over UDP: a connected datagram socket, so that only the server's datagrams
// are read and a port nobody listens on is reported (the kernel's "port unreachable"
// comes back as ECONNREFUSED). One line is one datagram, each datagram one reply.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIP } from "node:net";
import { EchoplexError } from "../errors.js";
import { type ConnectOptions, socketError } from "./connect.js";
import { MessageLink } from "./message-link.js";
import { targetName } from "./target.js";

class UdpLink extends MessageLink {
  private released = false;

  constructor(
    private readonly socket: UdpSocket,
    private readonly where: string,
    quietMs: number,
  ) {
    super(quietMs);
    socket.on("message", (datagram: Buffer) => this.received(datagram));
    socket.on("error", (err: NodeJS.ErrnoException) => this.destroy(udpError(err, where)));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.released) {
      done();
      return;
    }
    this.socket.send(chunk, (err) => {
      if (err === null || err === undefined) done();
      else done(udpError(err as NodeJS.ErrnoException, this.where, chunk.length));
    });
  }

  protected hangUp(): void {
    this.release();
    this.ended();
  }

  protected release(): void {
    if (this.released) return;
    this.released = true;
    this.socket.close();
  }
}

function udpError(err: NodeJS.ErrnoException, where: string, bytes?: number): EchoplexError {
  if (err.code === "ECONNREFUSED") {
    return new EchoplexError(
      "ERR_CONNECTION_REFUSED",
      `connection to ${where} refused: nothing listens there (port unreachable)`,
      { cause: err },
    );
  }
  if (err.code === "EMSGSIZE") {
    return new EchoplexError(
      "ERR_BAD_OPTION",
      `a line of ${bytes ?? "?"} bytes does not fit in one datagram`,
      {
        cause: err,
      },
    );
  }
  return socketError(err, where);
}

/** Opens a UDP socket connected to the server (resolving its name); rejects with a typed error. */
export function openUdp(options: ConnectOptions & { quietMs: number }): Promise<MessageLink> {
  const where = targetName(options);
  const socket = createSocket(isIP(options.host) === 6 ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(udpError(err, where));
    });
    socket.connect(options.port, options.host, () => {
      socket.removeAllListeners("error");
      resolve(new UdpLink(socket, where, options.quietMs));
    });
  });
}
