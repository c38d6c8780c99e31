// Keeps V8's young generation at its starting size in a server process.
//
// Why: V8 doubles the young generation's two semi-spaces (1 → 16 MiB each on Node 20 and
// 24) whenever most of what it holds survives, as when thousands of connections open at
// once or a chat burst queues replies, and never gives the pages back while the process
// idles. Measured with the harness (`measure.sh conns`, 10,000 idle connections): 5,625 B
// of RSS per connection with growth, 3,345 B without; most of a chat server's RSS after a
// burst was that growth too. What survives is promoted a little earlier instead; the CPU
// cost is in docs/BENCHMARKS.md. A user who sets the young generation themselves (a node
// flag, NODE_OPTIONS) keeps their choice.
import { setFlagsFromString } from "node:v8";

/** The V8 flags that size the young generation: if the user gave one, theirs stands. */
const USER_FLAGS = /--(max-|min-)?semi-space-(size|growth-factor)|--semi-space-growth-factor/;

/** True when this process was started with its own young-generation flag. */
export function userSizedYoungGeneration(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? "",
): boolean {
  return execArgv.some((arg) => USER_FLAGS.test(arg)) || USER_FLAGS.test(nodeOptions);
}

/**
 * Stops the young generation from growing past its initial semi-space size (V8 reads this
 * flag at each resize, so setting it after start takes effect). Bun runs JavaScriptCore,
 * which has no semi-spaces: nothing to do there. Returns whether the flag was set.
 */
export function holdYoungGeneration(): boolean {
  if (process.versions.bun !== undefined || userSizedYoungGeneration()) return false;
  setFlagsFromString("--semi-space-growth-factor=1");
  return true;
}
