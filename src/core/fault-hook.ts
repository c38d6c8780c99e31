// Where the engine meets fault injection: a faulted connection's flush goes through its
// fault stage (src/faults/apply.ts), and a connection gets that stage when it is drawn.
// Connections without faults never reach this file.
import { FaultStage } from "../faults/apply.js";
import type { Connection } from "./connection.js";
import type { EngineContext } from "./context.js";
import { kFaults, kSocket, kWholeMessages } from "./slots.js";

/**
 * Hands a batch of replies to the stage. The parts may be views of a codec's buffer that
 * the next read overwrites, and the stage keeps them for later: each leaves as a copy.
 * The stage holds the peer's input itself while too much waits in it; replies made
 * elsewhere (chat fan-out) are not held back by that: returns false once what waits
 * passes `maxPending`, and the engine then disconnects the slow consumer.
 */
export function faultedFlush<S>(
  conn: Connection<S>,
  stage: FaultStage,
  out: readonly Buffer[],
  bytes: number,
  maxPending: number,
): boolean {
  if (conn[kWholeMessages]) for (const part of out) stage.write(Buffer.from(part));
  else stage.write(Buffer.concat(out, bytes));
  return conn.pendingBytes <= maxPending;
}

/** Draws whether `conn` gets the service's faults (--fault-share) and, if so, gives it its stage. */
export function attachFaults<S>(ctx: EngineContext<S>, conn: Connection<S>): void {
  const registry = ctx.faults;
  if (registry === undefined || conn[kFaults] !== undefined || !registry.draw()) return;
  const logger = ctx.logger;
  conn[kFaults] = new FaultStage(
    conn[kSocket],
    registry,
    {
      applied(kind) {
        registry.count(kind);
        logger.debug({ conn: conn.id, fault: kind }, "fault applied");
      },
      hold: () => conn.holdInput(),
      release: () => conn.releaseInput(),
    },
    { holdAboveBytes: ctx.limits.highWaterBytes, wholeMessages: conn[kWholeMessages] },
  );
}
