// --workers-balance: how the workers of --workers share a port. reuseport where the
// runtime has it (Node >= 22.12, Bun; CI runs this file on Node 20 and on Node 24, so
// each runtime checks its side): a socket per worker, a port 0 shared, TCP and UDP peers
// spread over the workers, a drain that answers everything. round-robin everywhere.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { resolveBalance } from "../../src/cli/worker-balance.js";
import { reusePortMissing } from "../../src/core/reuse-port.js";
import type { PeersSnapshot, StatsSnapshot } from "../../src/observability/snapshot.js";
import { adminJson, eventually } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";

let cli: RunningCli | undefined;
const clients: TestClient[] = [];
const udpSockets: UdpSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of udpSockets.splice(0)) s.close();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

const missing = reusePortMissing();
/** What `--workers` picks with no --workers-balance here (benchmarks/workers.sh decided it). */
const autoBalance = resolveBalance(undefined);

function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(/\s+/).map(Number);
}

/**
 * Who holds each listening socket on 127.0.0.1:`port` among `pids` (what `ss -ltnp`
 * shows, read from /proc): one socket shared, one in the primary, or one per worker.
 */
function holdersOfListeners(port: number, pids: number[]): number[][] {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] === "0A")
    .map((f) => `socket:[${f[9]}]`);
  const holds = (pid: number, socket: string) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === socket;
      } catch {
        return false; // closed while listed
      }
    });
  return inodes.map((socket) => pids.filter((pid) => holds(pid, socket)).sort()).sort();
}

/** The port of the start-up row whose address starts with `scheme` (`""`: a bare TCP address). */
function portOf(stdout: string, scheme: string): number {
  for (const m of stdout.matchAll(/listening on (\S+):(\d+)/g)) {
    if (scheme === "" ? !m[1]!.includes("://") : m[1]!.startsWith(scheme)) return Number(m[2]);
  }
  throw new Error(`no ${scheme || "tcp"} row in:\n${stdout}`);
}

async function workersListening(admin: number, count: number): Promise<number[]> {
  let pids: number[] = [];
  await eventually(
    async () => {
      pids = ((await adminJson<StatsSnapshot>(admin, "/api/stats")).workers ?? []).map((w) => w.pid);
      return pids.length === count;
    },
    `${count} workers to listen`,
    20_000,
  );
  return pids.sort();
}

/**
 * Opens TCP connections (each says one line and keeps its connection) until both workers
 * hold some, at least `min` of them; a bounded number of tries. Returns the pids seen.
 */
async function spreadTcp(port: number, admin: number, min: number): Promise<Set<number>> {
  let seen = new Set<number>();
  for (let i = 0; i < 100 && (seen.size < 2 || clients.length < min); i++) {
    const c = await connectClient(port);
    clients.push(c);
    c.send(`hello ${i}`);
    expect(await c.readLine()).toBe(`ECHO: hello ${i}`);
    const peers = await adminJson<PeersSnapshot>(admin, "/api/peers");
    seen = new Set(peers.peers.filter((p) => p.transport === "tcp").map((p) => p.worker ?? 0));
  }
  return seen;
}

/** A UDP client (a raw node:dgram socket) that says `text` and waits for the answer. */
async function udpAsk(socket: UdpSocket, port: number, text: string): Promise<string> {
  const answer = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no UDP answer to ${text}`)), 10_000);
    socket.once("message", (m) => {
      clearTimeout(timer);
      resolve(m.toString("utf8"));
    });
  });
  socket.send(text, port, "127.0.0.1");
  return answer;
}

/** Every client pipelines one more line, the group drains: each gets its answer, then the notice. */
async function drainAnswersEveryone(): Promise<void> {
  clients.forEach((c, i) => {
    c.send(`last ${i}`);
  });
  expect(await cli!.stop("SIGTERM")).toBe(0);
  const ends = await Promise.all(clients.map((c) => c.readToEnd()));
  ends.forEach((text, i) => {
    expect(text).toBe(`ECHO: last ${i}\nNOTICE: server shutting down\n`);
  });
}

describe("--workers-balance", () => {
  // One of the two runs on every runtime: the error where reusePort is missing, the
  // layout where it is there (Node >= 22.12 and Bun in CI).
  if (missing !== undefined)
    it("reuseport where the runtime cannot: one error line naming the runtime, exit 2", async () => {
      const { code, stdout, stderr } = await runCli([
        "echo",
        "127.0.0.1:0",
        "--workers",
        "2",
        "--workers-balance",
        "reuseport",
      ]);
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(
        /^echoplex: error: --workers-balance reuseport: .*reusePort.*; use shared or round-robin \(ERR_REUSEPORT_UNSUPPORTED\)\n$/,
      );
    });
  else
    it("reuseport: every worker binds the same port 0 (TCP and UDP), both serve, a restarted one rejoins, the drain answers everyone", async () => {
      cli = await startCli(
        [
          "echo",
          "127.0.0.1:0",
          "udp://127.0.0.1:0",
          "--workers",
          "2",
          "--workers-balance",
          "reuseport",
          "--admin",
          "0",
          "--log-level",
          "warn",
        ],
        { count: 2 },
      );
      const port = portOf(cli.stdout(), "");
      const udpPort = portOf(cli.stdout(), "udp://");
      const admin = cli.ports.admin!;
      const workers = await workersListening(admin, 2);
      expect(workers).toEqual(childPids(cli.proc.pid!).sort());
      // A socket per worker; the primary holds none.
      expect(holdersOfListeners(port, [cli.proc.pid!, ...workers])).toEqual(workers.map((w) => [w]));

      expect([...(await spreadTcp(port, admin, 6))].sort()).toEqual(workers);

      // UDP: a peer per source address, and the kernel keeps a source on one worker, so
      // a second datagram from the same socket meets the same peer (no second one).
      for (let i = 0; i < 100 && udpSockets.length < 30; i++) {
        const socket = createSocket("udp4");
        udpSockets.push(socket);
        await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
        expect(await udpAsk(socket, udpPort, `u${i}`)).toBe(`ECHO: u${i}`);
      }
      for (const [i, socket] of udpSockets.entries()) {
        expect(await udpAsk(socket, udpPort, `again ${i}`)).toBe(`ECHO: again ${i}`);
      }
      const udpPeers = (await adminJson<PeersSnapshot>(admin, "/api/peers")).peers.filter(
        (p) => p.transport === "udp",
      );
      expect(udpPeers).toHaveLength(udpSockets.length);
      expect(new Set(udpPeers.map((p) => p.worker)).size).toBe(2);
      for (const p of udpPeers) expect(p).toMatchObject({ messagesIn: 2, messagesOut: 2 });

      // A killed worker's replacement binds the group's port, not a new port 0.
      process.kill(workers[0]!, "SIGKILL");
      let now: number[] = [];
      await eventually(
        async () => {
          const stats = await adminJson<StatsSnapshot>(admin, "/api/stats");
          now = (stats.workers ?? []).map((w) => w.pid).sort();
          return now.length === 2 && !now.includes(workers[0]!);
        },
        "the replacement to listen",
        20_000,
      );
      // The killed worker's clients lost their connections: start again with new ones.
      for (const c of clients.splice(0)) c.destroy();
      expect([...(await spreadTcp(port, admin, 6))].sort()).toEqual(now);

      await drainAnswersEveryone();
    }, 60_000);

  it("round-robin: the primary hands connections to both workers, the drain answers everyone", async () => {
    cli = await startCli(
      [
        "echo",
        "127.0.0.1:0",
        "--workers",
        "2",
        "--workers-balance",
        "round-robin",
        "--admin",
        "0",
        "--log-level",
        "warn",
      ],
      { count: 2 },
    );
    const admin = cli.ports.admin!;
    const workers = await workersListening(admin, 2);
    // One socket, in the primary only: it accepts and passes each connection on.
    expect(holdersOfListeners(cli.ports.echo!, [cli.proc.pid!, ...workers])).toEqual([[cli.proc.pid!]]);
    expect([...(await spreadTcp(cli.ports.echo!, admin, 6))].sort()).toEqual(workers);
    await drainAnswersEveryone();
  }, 40_000);

  it(`no flag (auto): ${autoBalance} on this runtime, with the socket layout that mode has`, async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--workers", "2", "--admin", "0", "--log-level", "warn"], {
      count: 2,
    });
    const primary = cli.proc.pid!;
    const workers = await workersListening(cli.ports.admin!, 2);
    const all = [primary, ...workers].sort();
    const layout = holdersOfListeners(cli.ports.echo!, all);
    // reuseport: a socket per worker, none in the primary; shared: one socket in every process.
    if (autoBalance === "reuseport") expect(layout).toEqual(workers.map((w) => [w]).sort());
    else expect(layout).toEqual([all]);
  }, 40_000);

  it("rejects an unknown mode", async () => {
    const { code, stderr } = await runCli(["echo", "--workers", "2", "--workers-balance", "kernel"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--workers-balance/);
  });

  it("knows which runtimes have reusePort", () => {
    const versions = (node: string, bun?: string) =>
      ({ ...process.versions, node, ...(bun === undefined ? {} : { bun }) }) as NodeJS.ProcessVersions;
    expect(reusePortMissing(versions("20.20.2"), "linux")).toMatch(/Node 20\.20\.2/);
    expect(reusePortMissing(versions("22.11.0"), "linux")).toBeDefined();
    expect(reusePortMissing(versions("22.12.0"), "linux")).toBeUndefined();
    expect(reusePortMissing(versions("23.0.0"), "linux")).toBeDefined();
    expect(reusePortMissing(versions("23.1.0"), "linux")).toBeUndefined();
    expect(reusePortMissing(versions("24.11.1"), "linux")).toBeUndefined();
    expect(reusePortMissing(versions("24.3.0", "1.2.0"), "linux")).toBeUndefined();
    expect(reusePortMissing(versions("24.11.1"), "darwin")).toMatch(/darwin/);
  });
});
