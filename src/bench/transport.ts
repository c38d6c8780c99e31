// Client sockets for the load generator: plain TCP or TLS, Nagle off, and an
// abortive close (RST) so that thousands of benchmark connections leave no TIME_WAIT.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { EchoplexError } from "../core/errors.js";
import type { TcpTarget } from "./options.js";

/** Opens a connection and resolves once it is usable (after the TLS handshake for TLS). */
export function dial(target: TcpTarget, timeoutMs = 10_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({
          host: target.host,
          port: target.port,
          rejectUnauthorized: !target.tls.insecure,
          ...(isIpLiteral(target.host) ? {} : { servername: target.host }),
        })
      : netConnect({ host: target.host, port: target.port });
    const event = target.tls ? "secureConnect" : "connect";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EchoplexError("ERR_TIMEOUT", `connect to ${target.host}:${target.port} timed out`));
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once("error", onError);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/** Closes with RST where the runtime can (no TIME_WAIT), else destroys. */
export function closeHard(socket: Socket): void {
  const withReset = socket as Socket & { resetAndDestroy?: () => Socket };
  if (typeof withReset.resetAndDestroy === "function" && !socket.destroyed && socket.readyState === "open") {
    try {
      withReset.resetAndDestroy();
      return;
    } catch {
      // fall through to destroy()
    }
  }
  socket.destroy();
}

/** The kind an error is counted under: its errno code, else its name. */
export function errorKind(err: unknown): string {
  if (EchoplexError.is(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? err.name : "error";
}

/** Dials `count` connections with at most `parallel` in flight; failures are reported, not thrown. */
export async function dialAll(
  target: TcpTarget,
  count: number,
  parallel: number,
  onFailure: (err: unknown) => void,
): Promise<Array<Socket | undefined>> {
  const sockets: Array<Socket | undefined> = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      try {
        sockets[i] = await dial(target);
      } catch (err) {
        onFailure(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return sockets;
}
