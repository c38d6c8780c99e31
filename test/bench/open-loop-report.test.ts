// Honest reporting in open loop over UDP and chat: the real CLI's bench against the real
// CLI's echo (udp://) and chat services prints latency from the due send time and from
// the actual send side by side, and a load generator stalled mid-run (SIGSTOP, as a GC
// pause or a busy machine would) shows its late sends only in the corrected figures.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatsSnapshot } from "../../src/observability/snapshot.js";
import { adminJson, eventually } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

let udpEcho: RunningCli;
let chat: RunningCli;
let udpTarget = "";
let chatTarget = "";

beforeAll(async () => {
  [udpEcho, chat] = await Promise.all([
    startCli(["echo", "udp://127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 }),
    startCli(["chat", "127.0.0.1:0", "--flood-rate", "0", "--admin", "0", "--log-level", "warn"], {
      count: 2,
    }),
  ]);
  udpTarget = `udp://127.0.0.1:${udpEcho.ports.echo}`;
  chatTarget = `127.0.0.1:${chat.ports.chat}`;
});
afterAll(async () => {
  await Promise.all([udpEcho?.stop(), chat?.stop()]);
});

const targets = () => ({
  udp: { args: ["echo", udpTarget, "--conns", "2"], server: udpEcho },
  chat: { args: ["chat", chatTarget, "--conns", "2", "--senders", "1"], server: chat },
});

/** Messages the server has read so far (its admin endpoint). */
async function messagesIn(server: RunningCli): Promise<number> {
  return (await adminJson<StatsSnapshot>(server.ports.admin!, "/api/stats")).totals.messagesIn;
}

/**
 * Runs `bench ARGS --json`, stops the bench process for `stallMs` once the server has
 * read `after` of its messages, then lets it finish and returns its result.
 */
async function stalledBench(args: string[], server: RunningCli, after: number, stallMs: number) {
  const before = await messagesIn(server);
  let proc: ChildProcess | undefined;
  const run = bench(args, 60_000, (p) => {
    proc = p;
  });
  // Awaited below; if the wait fails first, its outcome must not go unhandled.
  run.catch(() => {});
  try {
    await eventually(
      async () => (await messagesIn(server)) - before >= after,
      `the server to read ${after} messages of the bench`,
      30_000,
    );
    proc!.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, stallMs));
  } finally {
    proc?.kill("SIGCONT");
  }
  return await run;
}

describe("open loop over UDP and chat: corrected and uncorrected latency", () => {
  for (const mode of ["udp", "chat"] as const) {
    it(`${mode}: prints both lines at --rate, only the corrected one in closed loop`, async () => {
      const { args } = targets()[mode];
      const open = await runCli(["bench", ...args, "--rate", "200", "--duration", "1s", "--warmup", "0s"], {
        timeoutMs: 30_000,
      });
      expect(open.code, open.stderr).toBe(0);
      expect(open.stdout).toMatch(/^latency\s+p50 .*\nuncorrected\s+p50 /m);
      const json = await bench([...args, "--rate", "200", "--duration", "1s", "--warmup", "0s"]);
      const u = json.result.uncorrectedUs!;
      expect(u.count).toBe(json.result.latencyUs.count);
      expect(u.count).toBeGreaterThan(0);
      // The actual send is never before the due one.
      expect(u.max).toBeLessThanOrEqual(json.result.latencyUs.max);
      const closed = await bench([...args, "--requests", "100"]);
      expect(closed.code).toBe(0);
      expect(closed.result.uncorrectedUs).toBeUndefined();
      expect(closed.stdout).not.toContain("uncorrected");
    });

    it(`${mode}: a load generator stalled 1.5 s shows the late sends in the corrected latency only`, async () => {
      const { args, server } = targets()[mode];
      // 200/s for 4 s; the stall after the first 100 messages leaves ~300 requests due
      // while stopped, sent together when it resumes: from their due time they waited up
      // to 1.5 s, from their send only for their own answer.
      const { code, result } = await stalledBench(
        [...args, "--rate", "200", "--duration", "4s", "--warmup", "0s", "--timeout", "3s"],
        server,
        100,
        1500,
      );
      // Over UDP the burst after the stall may lose datagrams (exit 1), each accounted for.
      expect(code === 0 || (mode === "udp" && code === 1), JSON.stringify(result)).toBe(true);
      expect(result.replies).toBeGreaterThan(result.sent * 0.8);
      const u = result.uncorrectedUs!;
      expect(u.count).toBe(result.latencyUs.count);
      expect(result.latencyUs.p90).toBeGreaterThan(700_000);
      expect(result.latencyUs.max).toBeGreaterThan(1_200_000);
      // Only the few requests in flight when it stopped waited through the stall.
      expect(u.p90).toBeLessThan(result.latencyUs.p90 / 4);
      expect(u.p90).toBeLessThan(200_000);
    }, 90_000);
  }
});
