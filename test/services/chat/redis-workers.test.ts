// `echoplex chat --workers 2 --redis URL`: users on different worker processes share
// the chat; a worker killed with SIGKILL is restarted and its users can come back.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { sleep } from "../../helpers/net.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";
import { type ChatUser, joinChat } from "./chat-user.js";

let redis: RunningRedis;
let cli: RunningCli | undefined;
const users: ChatUser[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const u of users) u.close();
  await cli?.stop("SIGKILL");
  await redis.stop("SIGKILL");
});

function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(/\s+/).map(Number);
}

/** The process (among `pids`) holding the server side of the loopback connection from `clientPort`. */
function ownerOf(clientPort: number, pids: number[]): number | undefined {
  const hexPort = clientPort.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[2]?.endsWith(`:${hexPort}`)) inodes.add(f[9]!);
  }
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return pid;
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

async function user(port: number, nick?: string): Promise<ChatUser> {
  const u = await joinChat(port, nick);
  users.push(u);
  return u;
}

describe("chat --workers 2 --redis", () => {
  it("shares the chat between workers, restarts a killed worker, and lets its users reconnect", async () => {
    cli = await startCli([
      "chat",
      "127.0.0.1:0",
      "--workers",
      "2",
      "--redis",
      redis.url,
      "--redis-ttl",
      "1s",
      "--flood-rate",
      "0",
      "--log-format",
      "json",
    ]);
    expect(cli.stdout()).toMatch(/echoplex chat listening on 127\.0\.0\.1:\d+ .*\[2 workers\]/);
    const primary = cli.proc.pid!;
    let workers = childPids(primary);
    for (let i = 0; i < 50 && workers.length < 2; i++) {
      await sleep(100);
      workers = childPids(primary);
    }
    expect(workers).toHaveLength(2);
    // Both workers listening (each logs it): before that, every connection goes to the first.
    await expect
      .poll(() => cli!.stderr().split('"msg":"listening"').length - 1, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);

    // Connect until both workers have users (the kernel decides which worker accepts;
    // connections arriving together spread over both).
    const byWorker = new Map<number, ChatUser[]>();
    for (let round = 0; round < 20 && byWorker.size < 2; round++) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => user(cli!.port)));
      for (const u of batch) {
        const owner = ownerOf(u.client.socket.localPort!, workers);
        expect(owner).toBeDefined();
        byWorker.set(owner!, [...(byWorker.get(owner!) ?? []), u]);
      }
    }
    expect(byWorker.size).toBe(2);
    const victim = workers[0]!;
    const doomed = byWorker.get(victim)![0]!;
    const survivor = byWorker.get(workers[1]!)![0]!;
    await survivor.sync();
    doomed.say("across workers");
    await survivor.until(`<${doomed.nick}> across workers`);

    process.kill(victim, "SIGKILL");
    await doomed.client.closedPromise;
    // The survivor's server notices the dead worker once its heartbeat expires.
    await survivor.until(`* ${doomed.nick} left #lobby (server lost)`, 15_000);
    let replaced: number[] = [];
    for (let i = 0; i < 100; i++) {
      replaced = childPids(primary);
      if (replaced.length === 2 && !replaced.includes(victim)) break;
      await sleep(100);
    }
    expect(replaced).toHaveLength(2);
    expect(replaced).not.toContain(victim);
    expect(cli.stderr()).toMatch(/worker exited unexpectedly, restarting/);

    // The user comes back (to whichever worker accepts) under the same nick, and talks again.
    const back = await user(cli.port);
    for (let i = 0; ; i++) {
      back.say(`/nick ${doomed.nick}`);
      const { line } = await back.until(/is now known as|already taken/);
      if (line.endsWith(`known as ${doomed.nick}`)) break;
      // The claim expires within --redis-ttl (1 s); the bound is loose for a loaded machine.
      expect(i).toBeLessThan(100);
      await sleep(100);
    }
    back.say("I am back");
    await survivor.until(`<${doomed.nick}> I am back`);
    survivor.say("welcome back");
    await back.until(`<${survivor.nick}> welcome back`);

    expect(await cli.stop("SIGTERM")).toBe(0);
  }, 60_000);
});
