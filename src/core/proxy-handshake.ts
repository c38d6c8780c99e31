// The engine's pre-codec phase for the PROXY protocol: reads a socket's first bytes
// until the header is complete (or wrong, or late), before any byte reaches a codec.
import type { Socket } from "node:net";
import { EchoplexError } from "../errors.js";
import { PROXY_HEADER_MAX_BYTES, type ProxyHeader, parseProxyHeader } from "./proxy-protocol.js";

export type HandshakeOutcome =
  /** The header, and whatever the client sent after it in the same reads. */
  | { kind: "header"; header: ProxyHeader; rest: Buffer }
  /** No valid header: refuse the connection. */
  | { kind: "refused"; error: EchoplexError }
  /** The peer went away first. */
  | { kind: "gone" };

/**
 * Reads the PROXY header from `socket`, then calls `done` once, with the socket's
 * listeners back as they were. Holds at most PROXY_HEADER_MAX_BYTES.
 */
export function awaitProxyHeader(
  socket: Socket,
  timeoutMs: number,
  done: (outcome: HandshakeOutcome) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (outcome: HandshakeOutcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onGone);
    socket.off("error", onGone);
    // The header parser saw every byte so far; nothing more may be read until the engine is ready.
    socket.pause();
    done(outcome);
  };
  const onData = (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    try {
      const result = parseProxyHeader(received);
      if (result.done) {
        finish({ kind: "header", header: result.header, rest: received.subarray(result.length) });
      } else if (received.length >= PROXY_HEADER_MAX_BYTES) {
        // Unreachable for a strict parser (it refuses oversize headers itself); a belt for the braces.
        finish({ kind: "refused", error: new EchoplexError("ERR_PROXY_PROTOCOL", "PROXY header too long") });
      }
    } catch (err) {
      if (!EchoplexError.is(err)) throw err;
      finish({ kind: "refused", error: err });
    }
  };
  const onEnd = () =>
    finish({
      kind: "refused",
      error: new EchoplexError("ERR_PROXY_PROTOCOL", "connection ended before a complete PROXY header"),
    });
  const onGone = () => finish({ kind: "gone" });
  const timer = setTimeout(
    () =>
      finish({
        kind: "refused",
        error: new EchoplexError(
          "ERR_PROXY_PROTOCOL",
          `no PROXY protocol header within ${timeoutMs} ms, closing`,
        ),
      }),
    timeoutMs,
  );
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("close", onGone);
  socket.on("error", onGone);
}
