import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResult } from "../../src/bench/result.js";
import { CLI, type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

let echo: RunningCli;
let framed: RunningCli;
beforeAll(async () => {
  echo = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
  framed = await startCli([
    "echo",
    "127.0.0.1:0",
    "--framing",
    "length",
    "--prefix",
    "> ",
    "--log-level",
    "warn",
  ]);
});
afterAll(async () => {
  await echo?.stop();
  await framed?.stop();
});

/** A line server that answers "ECHO: " + line, but lets `mangle` change or drop replies. */
async function wrongServer(
  mangle: (line: string, n: number) => string | undefined,
): Promise<{ port: number; server: Server }> {
  const server = createServer((socket: Socket) => {
    let buf = "";
    let n = 0;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      let out = "";
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const reply = mangle(line, n++);
        if (reply !== undefined) out += `ECHO: ${reply}\n`;
      }
      if (out) socket.write(out, "latin1");
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, server };
}

describe("bench echo against echoplex echo", () => {
  it("answers exactly --requests N requests, every reply verified", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${echo.port}`,
      "--conns",
      "8",
      "--pipeline",
      "4",
      "--requests",
      "5000",
    ]);
    expect(code).toBe(0);
    expect(result.prefix).toBe("ECHO: ");
    expect(result.sent).toBe(5000);
    expect(result.replies).toBe(5000);
    expect(result.ok).toBe(5000);
    expect(result.mismatches).toBe(0);
    expect(result.lost).toBe(0);
    expect(result.latencyUs.count).toBe(5000);
    expect(result.latencyUs.p50).toBeGreaterThan(0);
    expect(result.latencyUs.max).toBeGreaterThanOrEqual(result.latencyUs.p99);
    expect(result.errors).toEqual({});
    expect(result.cpuUs).toBeGreaterThan(0);
    expect(result.cpuUsPerReply).toBeCloseTo(result.cpuUs / 5000, 1);
  });

  it("measures a duration run after its warm-up, with --size payloads", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${echo.port}`,
      "--conns",
      "4",
      "--size",
      "1k",
      "--duration",
      "1s",
      "--warmup",
      "500ms",
    ]);
    expect(code).toBe(0);
    expect(result.seconds).toBe(1);
    expect(result.measured).toBeGreaterThan(100);
    expect(result.measured).toBeLessThan(result.replies);
    expect(result.replies).toBe(result.sent);
    expect(result.ok).toBe(result.sent);
    // MB/s counts reply bytes: ("ECHO: " + 1024 + LF) per reply.
    expect(result.mbPerSec).toBeCloseTo((result.measured * 1031) / 1e6 / result.seconds, 1);
    // The window's CPU (no start-up, no warm-up) is part of the run's, per measured reply.
    expect(result.windowCpuUs).toBeGreaterThan(0);
    expect(result.windowCpuUs).toBeLessThan(result.cpuUs);
    expect(result.windowCpuUsPerReply).toBeCloseTo(result.windowCpuUs / result.measured, 1);
  });

  it("verifies payloads shorter than the sequence number, whose digits wrap around", async () => {
    // 2-byte payloads carry the sequence number modulo 100: 250 requests on one
    // connection wrap twice, and every reply must still match its request.
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${echo.port}`,
      "--size",
      "2",
      "--pipeline",
      "7",
      "--requests",
      "250",
    ]);
    expect(code).toBe(0);
    expect(result.ok).toBe(250);
    expect(result.mismatches).toBe(0);
  });

  it("verifies length-prefixed frames against a given prefix", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${framed.port}`,
      "--framing",
      "length",
      "--prefix",
      "> ",
      "--message",
      "hello frames",
      "--requests",
      "2000",
      "--conns",
      "2",
      "--pipeline",
      "8",
    ]);
    expect(code).toBe(0);
    expect(result.ok).toBe(2000);
    expect(result.mismatches).toBe(0);
  });

  it("reports the wrong prefix as mismatches", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${echo.port}`,
      "--prefix",
      "Echo: ",
      "--requests",
      "100",
    ]);
    expect(code).toBe(1);
    expect(result.mismatches).toBe(100);
    expect(result.firstMismatch).toContain("ECHO: ");
  });

  it("holds --rate within 5 % in open loop", async () => {
    const { code, result } = await bench(
      [
        "echo",
        `127.0.0.1:${echo.port}`,
        "--conns",
        "10",
        "--rate",
        "2000",
        "--duration",
        "3s",
        "--warmup",
        "500ms",
      ],
      60_000,
    );
    expect(code).toBe(0);
    expect(result.rate).toBe(2000);
    expect(Math.abs(result.sentPerSec - 2000)).toBeLessThanOrEqual(100);
    expect(Math.abs(result.msgsPerSec - 2000)).toBeLessThanOrEqual(100);
    expect(result.lost).toBe(0);
    expect(result.mismatches).toBe(0);
  });

  it("spreads the load over --workers processes and merges their counts and histograms", async () => {
    const { code, result } = await bench([
      "echo",
      `127.0.0.1:${echo.port}`,
      "--workers",
      "2",
      "--conns",
      "5",
      "--requests",
      "3001",
    ]);
    expect(code).toBe(0);
    expect(result.workers).toBe(2);
    expect(result.conns).toBe(5);
    expect(result.sent).toBe(3001);
    expect(result.ok).toBe(3001);
    expect(result.latencyUs.count).toBe(3001);
    // The merged CPU is the workers' sum, so the cost per reply stays a per-reply figure.
    expect(result.cpuUsPerReply).toBeCloseTo(result.cpuUs / 3001, 1);
  });

  it("prints a readable table without --json", async () => {
    const out = await runCli([
      "bench",
      "echo",
      `127.0.0.1:${echo.port}`,
      "--requests",
      "300",
      "--conns",
      "3",
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/requests\s+sent 300, replies 300, ok 300, mismatches 0, lost 0/);
    expect(out.stdout).toMatch(
      /latency\s+p50 [\d.]+ms\s+p90 [\d.]+ms\s+p99 [\d.]+ms\s+p99\.9 [\d.]+ms\s+max/,
    );
    expect(out.stdout).toMatch(/throughput\s+[\d,]+ msgs\/s/);
    expect(out.stdout).toMatch(/bench cpu\s+\d+% of one core, [\d.]+ us per reply/);
  });
});

describe("bench progress on a terminal", () => {
  it("rewrites a live progress line on stderr when it is a TTY", async () => {
    // script(1) gives the command a real pseudo-terminal.
    const command = `${process.execPath} ${CLI} bench echo 127.0.0.1:${echo.port} --duration 2s --warmup 0`;
    const { stdout } = await promisify(execFile)("script", ["-qec", command, "/dev/null"], {
      timeout: 30_000,
    });
    // Each update returns the cursor (CR) and clears the line (ESC [K) before rewriting it.
    expect(stdout).toContain("\r\u001b[K[1.");
    expect(stdout).toMatch(/\[1\.\d\/2\.0s\] [\d,]+\/s {2}replies [\d,]+ {2}errors 0 {2}mismatches 0/);
    expect(stdout).toMatch(/requests\s+sent [\d,]+/);
  });

  it("prints no progress line when stderr is not a terminal", async () => {
    const out = await runCli([
      "bench",
      "echo",
      `127.0.0.1:${echo.port}`,
      "--duration",
      "1200ms",
      "--warmup",
      "0",
    ]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
  });
});

describe("bench interrupted by Ctrl-C", () => {
  it.each([
    ["in one process", []],
    ["with --workers 2", ["--workers", "2"]],
  ])(
    "stops sending at the first SIGINT and reports what was done (%s)",
    async (_name, extra) => {
      // An echo server of the test's own, so the test knows when every connection carries load.
      const linesByConn = new Map<Socket, number>();
      let firstLineAt = 0;
      const server = createServer((socket: Socket) => {
        let buf = "";
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
          buf += chunk;
          let out = "";
          for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
            out += `ECHO: ${buf.slice(0, nl)}\n`;
            buf = buf.slice(nl + 1);
            linesByConn.set(socket, (linesByConn.get(socket) ?? 0) + 1);
            if (firstLineAt === 0) firstLineAt = Date.now();
          }
          if (out) socket.write(out, "latin1");
        });
        socket.on("error", () => {});
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as { port: number }).port;
      const proc = spawn(process.execPath, [
        CLI,
        "bench",
        "echo",
        `127.0.0.1:${port}`,
        "--conns",
        "4",
        "--duration",
        "60s",
        "--warmup",
        "0",
        "--json",
        ...extra,
      ]);
      let stdout = "";
      let stderr = "";
      proc.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      proc.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = once(proc, "exit");
      try {
        // Wait (no fixed sleep) until all 4 load connections have carried replies for over
        // a second: then every process has its SIGINT handler and has been in its measured
        // window that long (the probe's connection, one line, does not count).
        let loadedSince = 0;
        const loaded = () => {
          if (loadedSince === 0 && [...linesByConn.values()].filter((n) => n >= 10).length >= 4)
            loadedSince = Date.now();
          return loadedSince > 0 && Date.now() - loadedSince > 1200;
        };
        const waitStart = Date.now();
        while (!loaded() && Date.now() - waitStart < 60_000) await new Promise((r) => setTimeout(r, 50));
        expect(loaded()).toBe(true);
        proc.kill("SIGINT");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
        const [code] = await exited;
        clearTimeout(timer);
        expect(stderr).toContain("stopping, waiting for outstanding replies");
        expect(code).toBe(0);
        const result = JSON.parse(stdout) as BenchResult;
        expect(result.seconds).toBeGreaterThan(0.5);
        expect(result.seconds).toBeLessThan(50);
        expect(result.sent).toBeGreaterThan(0);
        expect(result.ok).toBe(result.sent);
        expect(result.lost).toBe(0);
        expect(Math.abs(result.msgsPerSec - result.measured / result.seconds)).toBeLessThan(
          result.msgsPerSec * 0.02 + 2,
        );
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
        for (const socket of linesByConn.keys()) socket.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      }
    },
    120_000,
  );
});

describe("bench echo against a deliberately wrong server", () => {
  it("counts corrupted replies as mismatches and exits 1", async () => {
    // Every 10th reply on a connection has one byte changed.
    const { port, server } = await wrongServer((line, n) => (n % 10 === 9 ? `X${line.slice(1)}` : line));
    try {
      const { code, result, stderr } = await bench([
        "echo",
        `127.0.0.1:${port}`,
        "--requests",
        "1000",
        "--conns",
        "1",
      ]);
      expect(code).toBe(1);
      expect(result.sent).toBe(1000);
      expect(result.replies).toBe(1000);
      expect(result.mismatches).toBe(100);
      expect(result.ok).toBe(900);
      expect(result.firstMismatch).toMatch(/reply 9: got "ECHO: X/);
      expect(stderr).toContain("100 mismatches");
      expect(stderr).toContain("ERR_BENCH_FAILED");
    } finally {
      server.close();
    }
  });

  it("counts reordered replies as mismatches", async () => {
    // Replies 4 and 5 of each 10 swap places: the line itself is intact, the order is not.
    let held: string | undefined;
    const { port, server } = await wrongServer((line, n) => {
      if (n % 10 === 4) {
        held = line;
        return undefined;
      }
      if (n % 10 === 5 && held !== undefined) return `${line}\nECHO: ${held}`;
      return line;
    });
    try {
      const { code, result } = await bench([
        "echo",
        `127.0.0.1:${port}`,
        "--prefix",
        "ECHO: ",
        "--requests",
        "100",
        "--pipeline",
        "10",
      ]);
      expect(code).toBe(1);
      expect(result.replies).toBe(100);
      expect(result.mismatches).toBe(20);
    } finally {
      server.close();
    }
  });

  it("reports a reply that never comes as lost, after --timeout", async () => {
    const { port, server } = await wrongServer((line, n) => (n === 49 ? undefined : line));
    try {
      const { code, result } = await bench([
        "echo",
        `127.0.0.1:${port}`,
        "--prefix",
        "ECHO: ",
        "--requests",
        "200",
        "--timeout",
        "1s",
      ]);
      expect(code).toBe(1);
      expect(result.sent).toBe(50);
      expect(result.replies).toBe(49);
      expect(result.lost).toBe(1);
      expect(result.errors).toEqual({ timeout: 1 });
    } finally {
      server.close();
    }
  });
});

describe("bench usage errors", () => {
  it("names a refused connection in one line", async () => {
    const { port, server } = await wrongServer((l) => l);
    await new Promise((r) => server.close(r));
    const out = await runCli(["bench", "echo", `127.0.0.1:${port}`, "--requests", "5"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(
      /^echoplex: error: cannot connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED.*\(ERR_CONNECT_FAILED\)\n$/,
    );
  });

  it("rejects --duration with --requests", async () => {
    const out = await runCli(["bench", "echo", "127.0.0.1:1", "--requests", "5", "--duration", "1s"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("give --duration or --requests, not both");
  });
});
