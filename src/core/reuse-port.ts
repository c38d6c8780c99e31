// SO_REUSEPORT for `--workers-balance reuseport`: the process-wide switch the TCP and UDP
// binds read (each worker binds its own socket and the kernel spreads the connections),
// the ports this process bound, and whether the runtime can do it at all.

let enabled = false;
/** The first worker's ports, bind by bind: where a later worker's port 0 binds. */
let assigned: readonly number[] = [];
/** How many TCP/UDP binds this process has started (the index of the next). */
let started = 0;
const bound: number[] = [];

/**
 * From now on every TCP and UDP bind of this process sets `reusePort`; the n-th bind
 * asking for port 0 takes `ports[n]` instead (the port the first worker's n-th bind got),
 * so that every worker joins the same group. Unix sockets are not affected.
 */
export function bindWithReusePort(ports: readonly number[] = []): void {
  enabled = true;
  assigned = ports;
}

/** What the next TCP/UDP bind asks for, and a callback to record the port it got. */
export function nextBind(requested: number): { port: number; reusePort: boolean; got(port: number): void } {
  if (!enabled) return { port: requested, reusePort: false, got: () => {} };
  const index = started++;
  const port = requested === 0 ? (assigned[index] ?? 0) : requested;
  return {
    port,
    reusePort: true,
    got: (actual) => {
      bound[index] = actual;
    },
  };
}

/** The ports this process's TCP/UDP binds got, in the order they were started. */
export function boundPorts(): number[] {
  return [...bound];
}

/**
 * Why this runtime cannot spread connections with SO_REUSEPORT, or undefined when it can:
 * node:net and node:dgram take `reusePort` from Node 22.12 and 23.1 on (earlier versions
 * ignore it silently, so a second worker would fail to bind), Bun takes it; the kernel
 * balances only on Linux and FreeBSD (elsewhere libuv refuses the flag).
 */
export function reusePortMissing(
  versions: NodeJS.ProcessVersions = process.versions,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (platform !== "linux" && platform !== "freebsd") {
    return `SO_REUSEPORT does not balance connections on ${platform} (Linux and FreeBSD only)`;
  }
  if ((versions as { bun?: string }).bun !== undefined) return undefined;
  const [major = 0, minor = 0] = versions.node.split(".").map(Number);
  if (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)) return undefined;
  return `Node ${versions.node} cannot listen with reusePort (Node >= 22.12 or >= 23.1 can)`;
}
