// Binding a node:net (or node:tls, node:http) server to an address or a Unix path: the part of
// listen() every service shares, so that each reports the same errors (EADDRINUSE as
// ERR_ADDRESS_IN_USE, …) and survives accept errors (EMFILE) the same way.
import { connect, type ListenOptions, type Server } from "node:net";
import { EchoplexError, listenError } from "../errors.js";
import { type Address, formatAddress } from "./address.js";
import { formatUnixPath } from "./listen-address.js";
import { nextBind } from "./reuse-port.js";

export interface BoundAddress {
  host: string;
  port: number;
  family: string;
  /** `host:port` as people write it (`*:8080` for all interfaces). */
  display: string;
}

/**
 * Listens on `addr`; rejects with a typed error when it cannot. Once listening, accept
 * errors (EMFILE, ENFILE) go to `onAcceptError` instead of crashing the process.
 */
export function bindServer(
  server: Server,
  addr: Address,
  onAcceptError: (err: NodeJS.ErrnoException) => void,
): Promise<BoundAddress> {
  const where = formatAddress(addr.host, addr.port);
  const bind = nextBind(addr.port);
  // `reusePort` is in Node's types from 22.12 on; this project's are Node 20's.
  const options: ListenOptions & { reusePort?: boolean } = {
    host: addr.host,
    port: bind.port,
    backlog: 4096,
  };
  if (bind.reusePort) options.reusePort = true;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, where));
    server.once("error", onError);
    server.listen(options, () => {
      server.off("error", onError);
      server.on("error", onAcceptError);
      const bound = server.address();
      if (bound === null || typeof bound === "string") {
        reject(new EchoplexError("ERR_BAD_ADDRESS", `cannot listen on ${where}`));
        return;
      }
      bind.got(bound.port);
      resolve({
        host: addr.host ?? bound.address,
        port: bound.port,
        family: bound.family,
        display: formatAddress(addr.host, bound.port),
      });
    });
  });
}

/**
 * Listens on a Unix socket at `path` (a leading NUL: the abstract namespace). A socket
 * file left by a crashed server is replaced, but only when nothing answers on it: a
 * live server's socket is never taken over. `mode` (e.g. 0o660) is applied to the file.
 */
export async function bindUnixServer(
  server: Server,
  path: string,
  mode: number | undefined,
  onAcceptError: (err: NodeJS.ErrnoException) => void,
): Promise<BoundAddress> {
  const display = formatUnixPath(path);
  // Imported by a Unix door only: a TCP server does not load node:fs/promises.
  const { chmod, unlink } = await import("node:fs/promises");
  const listenOnce = () =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(err);
      server.once("error", onError);
      server.listen({ path, backlog: 4096 }, () => {
        server.off("error", onError);
        resolve();
      });
    });
  try {
    await listenOnce();
  } catch (err) {
    const errno = err as NodeJS.ErrnoException;
    if (errno.code !== "EADDRINUSE" || path.startsWith("\0") || (await somethingAnswers(path))) {
      throw listenError(errno, display);
    }
    await unlink(path).catch(() => {});
    await listenOnce().catch((again: NodeJS.ErrnoException) => {
      throw listenError(again, display);
    });
  }
  if (mode !== undefined && !path.startsWith("\0")) await chmod(path, mode);
  server.on("error", onAcceptError);
  return { host: display, port: 0, family: "unix", display };
}

/** True when a server accepts connections on the Unix socket at `path`. */
function somethingAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
