// How the engine ends a connection it closes: half-close after the last reply, keep
// discarding the peer's input for a while, and never let a timer throw away replies
// that have not left the process yet.
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";

export interface LingerOptions {
  /** Once every reply has reached the kernel: how long to keep discarding input before closing. */
  lingerMs: number;
  /** Reset the connection if its replies have not all reached the kernel this long after the close (0: no bound). */
  flushMs: number;
  /** `flushMs` ran out with this many bytes still unsent (called just before the reset). */
  onUnsent?: (unsentBytes: number) => void;
}

/**
 * Half-closes after `last`, then keeps reading and discarding until the peer closes or
 * `lingerMs` passes. Resetting at once could destroy our last message in the peer's
 * receive queue before it reads it. The linger only starts once the socket has handed
 * everything to the kernel ('finish'): a peer that is slow to read must not lose the
 * replies still queued in the socket when a fixed timer destroys it. The kernel keeps
 * delivering what it holds after the close.
 */
export function lingerClose(socket: Socket, last: Buffer | undefined, options: LingerOptions): void {
  socket.on("error", noop);
  if (last !== undefined) socket.end(last);
  else socket.end();
  socket.resume();
  let timer: NodeJS.Timeout | undefined;
  const linger = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => socket.destroy(), options.lingerMs);
    timer.unref();
  };
  if (socket.writableFinished) linger();
  else {
    socket.once("finish", linger);
    if (options.flushMs > 0) {
      timer = setTimeout(() => {
        const unsent = socket.writableLength;
        options.onUnsent?.(unsent);
        abortSocket(socket);
      }, options.flushMs);
      timer.unref();
    }
  }
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Ends a connection so that the peer cannot take it for a clean close: with replies
 * dropped, a FIN would look like the end of a complete answer. Plain TCP gets a reset;
 * a TLS socket is destroyed without close_notify (node cannot reset the TCP connection
 * under TLS), which TLS clients report as a truncated stream.
 */
export function abortSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket instanceof TLSSocket) socket.destroy();
  else socket.resetAndDestroy();
}

function noop(): void {}
