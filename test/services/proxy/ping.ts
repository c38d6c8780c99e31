// Timing redis-cli through a proxy: both proxy test files compare medians of PING.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "vitest";

export const run = promisify(execFile);

/** The median wall time of `redis-cli -p PORT PING`, which must answer PONG. */
export async function pingMs(port: number, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const { stdout } = await run("redis-cli", ["-p", String(port), "PING"]);
    times.push(performance.now() - start);
    expect(stdout.trim()).toBe("PONG");
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}
