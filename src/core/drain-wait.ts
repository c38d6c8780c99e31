// The waits every service's drain runs the same way (the engine's runShutdown, the HTTP
// responder's): the listener's close, and "until the last connection is gone, or the
// drain timeout, whichever comes first".
import type { Server } from "node:net";

/** Closes `server` if it listens; resolves once it has closed (node waits for its connections). */
export function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) resolve();
    else server.close(() => resolve());
  });
}

/** What a drain waits to see emptied: a server's connections (and whatever else it owes). */
export interface Emptying {
  isEmpty(): boolean;
  /** Calls `done` once it is empty (a later registration replaces an earlier one). */
  whenEmpty(done: () => void): void;
}

/** Resolves once `what` is empty. */
export function untilEmpty(what: Emptying): Promise<void> {
  return new Promise((resolve) => {
    if (what.isEmpty()) resolve();
    else what.whenEmpty(resolve);
  });
}

/** True once `what` is empty; false if `ms` passed first. The timer does not outlive the wait. */
export async function emptiedWithin(what: Emptying, ms: number): Promise<boolean> {
  if (what.isEmpty()) return true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const emptied = untilEmpty(what).then(() => true);
  try {
    return await Promise.race([emptied, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
