// Issue 19: a chat burst must not leave the server holding a turn's worth of copies for
// every recipient. One sender writes 2000 lines at once to 300 users (600,000 deliveries);
// the server's peak RSS over its pre-burst RSS is what a user of a small VM notices.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";

const USERS = 300;
const LINES = 2000;
/**
 * Measured on a 2-core VM (benchmarks/results/2026-12-04-light-connections.md): the peak
 * rose 48–49 MiB above the pre-burst RSS while each recipient's whole turn of replies
 * was copied before any left; 8–19 MiB once queued replies leave at 16 KiB.
 */
const MAX_PEAK_GROWTH_MIB = 30;

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]);
}

/** A user that counts the lines it receives, and resolves once it has been welcomed. */
function user(port: number): Promise<{ socket: Socket; lines: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let lines = 0;
    socket.on("data", (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
      if (lines > 0) resolve({ socket, lines: () => lines });
    });
    socket.on("error", reject);
  });
}

async function until(test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

let cli: RunningCli | undefined;
afterEach(async () => {
  await cli?.stop("SIGKILL");
  cli = undefined;
});

describe("chat burst memory", () => {
  it(`one sender's ${LINES} lines to ${USERS} users: every line arrives, the peak RSS stays within ${MAX_PEAK_GROWTH_MIB} MiB of the RSS before`, async () => {
    cli = await startCli([
      "chat",
      "127.0.0.1:0",
      "--log-level",
      "warn",
      "--flood-rate",
      "0",
      "--history",
      "0",
    ]);
    const pid = cli.proc.pid!;
    const users: Array<{ socket: Socket; lines: () => number }> = [];
    for (let i = 0; i < USERS; i += 50) {
      users.push(
        ...(await Promise.all(Array.from({ length: Math.min(50, USERS - i) }, () => user(cli!.port)))),
      );
    }
    // Every join notice delivered: the users are at rest before the burst.
    const atRest = () => users.map((u) => u.lines());
    let before = atRest();
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = atRest();
      if (now.every((n, k) => n === before[k])) break;
      before = now;
    }
    const rssBefore = statusKiB(pid, "VmRSS");
    const hwmBefore = statusKiB(pid, "VmHWM");
    const sender = users[0]!;
    sender.socket.write(
      Array.from({ length: LINES }, (_, i) => `burst line ${i} ${"x".repeat(24)}\n`).join(""),
    );
    const received = () => users.slice(1).every((u, k) => u.lines() - before[k + 1]! >= LINES);
    await until(received, 120_000);
    expect(received()).toBe(true);
    const peakGrowthMiB = (statusKiB(pid, "VmHWM") - Math.max(rssBefore, 0)) / 1024;
    console.log(
      `chat burst: ${USERS} users, ${LINES * (USERS - 1)} deliveries; RSS before ${(rssBefore / 1024).toFixed(1)} MiB ` +
        `(peak so far ${(hwmBefore / 1024).toFixed(1)}), peak ${peakGrowthMiB.toFixed(1)} MiB above it, ` +
        `RSS now ${(statusKiB(pid, "VmRSS") / 1024).toFixed(1)} MiB`,
    );
    expect(peakGrowthMiB).toBeLessThan(MAX_PEAK_GROWTH_MIB);
    for (const u of users) u.socket.destroy();
  }, 180_000);
});
