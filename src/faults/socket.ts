// Faults on a socket someone else writes to (node:http's): the socket's own write and
// end are replaced on that one socket by the fault stage's, which writes through the
// originals. Sockets not drawn keep their methods: nothing changes for them.
import type { Socket } from "node:net";
import { type FaultHooks, FaultStage } from "./apply.js";
import type { FaultRegistry } from "./registry.js";

type Callback = (err?: Error | null) => void;

function toBuffer(chunk: unknown, encoding: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return Buffer.from(chunk); // kept past this call: a copy
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return Buffer.from(String(chunk), typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
}

/** Splits `(chunk?, encoding?, callback?)` as Writable.write and end take them. */
function args(
  a: unknown,
  b: unknown,
  c: unknown,
): { chunk: unknown; encoding: unknown; cb: Callback | undefined } {
  if (typeof a === "function") return { chunk: undefined, encoding: undefined, cb: a as Callback };
  if (typeof b === "function") return { chunk: a, encoding: undefined, cb: b as Callback };
  return { chunk: a, encoding: b, cb: typeof c === "function" ? (c as Callback) : undefined };
}

/** Puts the registry's faults on `socket`'s output; returns the stage. */
export function faultSocket(
  socket: Socket,
  registry: FaultRegistry,
  hooks: FaultHooks,
  holdAboveBytes: number,
): FaultStage {
  const realWrite = socket.write.bind(socket) as (chunk: Buffer, cb?: Callback) => boolean;
  const realEnd = socket.end.bind(socket) as (chunk?: Buffer | Callback) => Socket;
  const sink = {
    write: (chunk: Buffer, cb?: Callback) => realWrite(chunk, cb),
    end: (chunk: Buffer) => realEnd(chunk),
    destroy: () => socket.destroy(),
    once: (event: "drain", listener: () => void) => socket.once(event, listener),
    resetAndDestroy: () => socket.resetAndDestroy(),
    get destroyed() {
      return socket.destroyed;
    },
    get writableEnded() {
      return socket.writableEnded;
    },
  };
  const stage = new FaultStage(sink, registry, hooks, { holdAboveBytes });
  socket.write = ((a: unknown, b?: unknown, c?: unknown) => {
    const { chunk, encoding, cb } = args(a, b, c);
    if (chunk !== undefined && chunk !== null) stage.write(toBuffer(chunk, encoding));
    // The writer (node:http) waits for this to finish a response: it is queued, that is enough.
    if (cb !== undefined) process.nextTick(cb);
    return true;
  }) as Socket["write"];
  socket.end = ((a?: unknown, b?: unknown, c?: unknown) => {
    const { chunk, encoding, cb } = args(a, b, c);
    if (chunk !== undefined && chunk !== null) stage.write(toBuffer(chunk, encoding));
    stage.whenIdle(() => {
      if (!socket.destroyed && !socket.writableEnded) realEnd();
      if (cb !== undefined) process.nextTick(cb);
    });
    return socket;
  }) as Socket["end"];
  return stage;
}
