// Binding a node:net (or node:tls, node:http) server to an address: the part of
// listen() every service shares, so that each reports the same errors (EADDRINUSE as
// ERR_ADDRESS_IN_USE, …) and survives accept errors (EMFILE) the same way.
import type { Server } from "node:net";
import { EchoplexError, listenError } from "../errors.js";
import { type Address, formatAddress } from "./address.js";

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
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, where));
    server.once("error", onError);
    server.listen({ host: addr.host, port: addr.port, backlog: 4096 }, () => {
      server.off("error", onError);
      server.on("error", onAcceptError);
      const bound = server.address();
      if (bound === null || typeof bound === "string") {
        reject(new EchoplexError("ERR_BAD_ADDRESS", `cannot listen on ${where}`));
        return;
      }
      resolve({
        host: addr.host ?? bound.address,
        port: bound.port,
        family: bound.family,
        display: formatAddress(addr.host, bound.port),
      });
    });
  });
}
