// Issue 19: a chat burst must not leave the server holding a turn's worth of copies for
// every recipient. One sender writes 2000 lines at once to 300 users (600,000 deliveries);
// the server's peak RSS over its pre-burst RSS, and whether it gives that memory back once
// the burst is over, is what a user of a small VM notices.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";

const USERS = 300;
const LINES = 2000;
/**
 * Measured on a 2-core VM (benchmarks/results/2026-12-04-light-connections.md): the peak
 * rose 48–49 MiB above the pre-burst RSS while each recipient's whole turn of replies
 * was copied before any left; 8–19 MiB once queued replies leave at 16 KiB. On Node 20
 * the young generation is now held small (src/cli/heap-size.ts): the 300 users at rest
 * cost ~10 MiB less, so the pre-burst RSS is lower (64–68 MiB, was 75–78) and the same
 * peak reads higher above it: 23–29 MiB above it, at an absolute peak of 89–97 MiB
 * (93–102 without the hold). Hence 36 here; the assertion after the burst is the new one.
 */
const MAX_PEAK_GROWTH_MIB = 36;
/**
 * The absolute peak, tighter than the 30 MiB bound above allowed when it was set: Node 20
 * then started this burst at 75–78 MiB (a peak up to 105–108 passed), Node 24 at about
 * 90 (up to ~120). Measured 2026-12-05 with the CLI as one file and no ioredis without
 * --redis: peaks of 80–87 MiB on Node 20 and 91–102 on Node 24 (their servers idle at
 * 49.6 and 57.7 MiB).
 */
const MAX_PEAK_MIB = Number(process.versions.node.split(".")[0]) === 20 ? 98 : 112;
/**
 * And after the burst, RSS comes back within this factor of the RSS before it (the issue's
 * bar), once the server is idle: V8's memory reducer on Node 20, whose young generation
 * echoplex holds small, and echoplex's idle trim on Node >= 22 (src/cli/heap-size.ts).
 * Measured: 1.08–1.11 after 11 s (500 users, 1,000,000 deliveries); without either
 * remedy RSS stayed at 1.38 ×.
 */
const MAX_AFTER_BURST_RATIO = 1.2;
const AFTER_BURST_WITHIN_MS = 25_000;

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
  it(`one sender's ${LINES} lines to ${USERS} users: every line arrives, the peak RSS stays within ${MAX_PEAK_GROWTH_MIB} MiB of the RSS before and under ${MAX_PEAK_MIB} MiB, and comes back within ${MAX_AFTER_BURST_RATIO} × of it`, async () => {
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
    const rssAtStart = statusKiB(pid, "VmRSS");
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
      `chat burst: ${USERS} users, ${LINES * (USERS - 1)} deliveries; RSS at start ${(rssAtStart / 1024).toFixed(1)} MiB, before ${(rssBefore / 1024).toFixed(1)} MiB ` +
        `(peak so far ${(hwmBefore / 1024).toFixed(1)}), peak ${peakGrowthMiB.toFixed(1)} MiB above it, ` +
        `RSS now ${(statusKiB(pid, "VmRSS") / 1024).toFixed(1)} MiB`,
    );
    expect(peakGrowthMiB).toBeLessThan(MAX_PEAK_GROWTH_MIB);
    expect(statusKiB(pid, "VmHWM") / 1024).toBeLessThan(MAX_PEAK_MIB);
    // The users stay connected and quiet: the memory the burst needed is given back.
    const burstDone = Date.now();
    const back = () => statusKiB(pid, "VmRSS") <= rssBefore * MAX_AFTER_BURST_RATIO;
    await until(back, AFTER_BURST_WITHIN_MS);
    console.log(
      `chat burst: RSS ${(statusKiB(pid, "VmRSS") / 1024).toFixed(1)} MiB ${Date.now() - burstDone} ms after, ` +
        `${(statusKiB(pid, "VmRSS") / rssBefore).toFixed(2)} × the RSS before`,
    );
    expect(statusKiB(pid, "VmRSS") / rssBefore).toBeLessThanOrEqual(MAX_AFTER_BURST_RATIO);
    for (const u of users) u.socket.destroy();
  }, 180_000);
});
