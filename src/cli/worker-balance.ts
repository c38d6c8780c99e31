// `--workers-balance`: how the workers of `--workers` share a listening port, what `auto`
// means on each runtime, and the worker's side of `reuseport` (its binds join the group).
import { bindWithReusePort, reusePortMissing } from "../core/reuse-port.js";
import { EchoplexError } from "../errors.js";

/**
 * `shared`: the primary's one socket, every worker accepts from it (node:cluster
 * SCHED_NONE; the kernel wakes whichever worker waits). `round-robin`: the primary
 * accepts and hands each connection to the next worker (SCHED_RR). `reuseport`: a socket
 * per worker with SO_REUSEPORT, the kernel spreads connections by their address hash.
 */
export type WorkerBalance = "shared" | "round-robin" | "reuseport";

/**
 * What `auto` picks on Node, measured by `benchmarks/workers.sh` (2026-12-05, docs/BENCHMARKS.md):
 * on Node 24 reuseport led in pp-100c and pipe16-100c (1.05 and 4.58 × seed001, shared 0.57
 * and 3.06); on Node 20, which has no reusePort, `reuseport` here means `shared`, which led there.
 */
export const AUTO_BALANCE_ON_NODE: WorkerBalance = "reuseport";
/**
 * What `auto` picks on Bun (whose node:cluster has the same three: checked on Bun 1.4 with ss):
 * shared led in pp-100c (0.93 × seed001; reuseport 0.78), round-robin and reuseport in
 * pipe16-100c (4.00 and 3.94; shared 3.10). Many connections, each waiting for its reply,
 * are the commoner load: shared.
 */
export const AUTO_BALANCE_ON_BUN: WorkerBalance = "shared";

/** The primary tells each worker the mode, and under reuseport the first worker's ports. */
export const BALANCE_ENV = "ECHOPLEX_WORKERS_BALANCE";
export const PORTS_ENV = "ECHOPLEX_WORKER_PORTS";

/**
 * The mode for `--workers-balance CHOICE` on this runtime. `reuseport` where the runtime
 * cannot is a usage error: silently falling back would measure the wrong thing.
 */
export function resolveBalance(
  choice: string | undefined,
  versions: NodeJS.ProcessVersions = process.versions,
  platform: NodeJS.Platform = process.platform,
): WorkerBalance {
  if (choice === "shared" || choice === "round-robin") return choice;
  const missing = reusePortMissing(versions, platform);
  if (choice === "reuseport") {
    if (missing === undefined) return "reuseport";
    throw new EchoplexError(
      "ERR_REUSEPORT_UNSUPPORTED",
      `--workers-balance reuseport: ${missing}; use shared or round-robin`,
    );
  }
  const auto = (versions as { bun?: string }).bun === undefined ? AUTO_BALANCE_ON_NODE : AUTO_BALANCE_ON_BUN;
  return auto === "reuseport" && missing !== undefined ? "shared" : auto;
}

/** In a worker: under reuseport, every TCP/UDP bind from now on joins the group's ports. */
export function adoptBalance(env: NodeJS.ProcessEnv = process.env): void {
  if (env[BALANCE_ENV] !== "reuseport") return;
  const ports = JSON.parse(env[PORTS_ENV] ?? "[]") as unknown;
  bindWithReusePort(Array.isArray(ports) ? ports.map(Number) : []);
}
