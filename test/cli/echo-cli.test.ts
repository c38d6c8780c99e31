// The echo service through the real CLI, run as a child process.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

const running: RunningCli[] = [];
const clients: TestClient[] = [];

async function start(args: string[]): Promise<RunningCli> {
  const cli = await startCli(args);
  running.push(cli);
  return cli;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const cli of running.splice(0)) await cli.stop("SIGKILL");
});

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

function nc(args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn("nc", args);
    let out = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    proc.on("error", reject);
    const timer = setTimeout(() => proc.kill(), 5000);
    proc.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    // A child that exits before reading all its input must not fail the run (EPIPE).
    proc.stdin.on("error", () => {});
    proc.stdin.end(input);
  });
}

describe("echoplex echo (CLI)", () => {
  it("prints where it listens and answers like the reference session", async () => {
    const cli = await start(["echo", "127.0.0.1:0"]);
    expect(cli.stdout()).toMatch(/^echoplex echo listening on 127\.0\.0\.1:\d+ \(lines, prefix "ECHO: "\)\n/);
    const c = await connectClient(cli.port);
    clients.push(c);
    c.send("Hello Server!");
    expect(await c.readLine()).toBe("ECHO: Hello Server!");
  });

  it("works with nc -N: every reply arrives, the unterminated last line too", async () => {
    const cli = await start(["echo", "127.0.0.1:0"]);
    expect(await nc(["-N", "127.0.0.1", String(cli.port)], "Hello World\n")).toBe("ECHO: Hello World\n");
    expect(await nc(["-N", "127.0.0.1", String(cli.port)], "a\nb")).toBe("ECHO: a\nECHO: b\n");
  });

  it("takes --port and --prefix, and --raw", async () => {
    const cli = await start(["echo", "--host", "127.0.0.1", "--port", "0", "--prefix", "Echo: "]);
    expect(await nc(["-N", "127.0.0.1", String(cli.port)], "x\n")).toBe("Echo: x\n");
    const rawCli = await start(["echo", "127.0.0.1:0", "--raw"]);
    expect(await nc(["-N", "127.0.0.1", String(rawCli.port)], "no newline")).toBe("no newline");
  });

  it("answers every request sent before SIGTERM, tells peers it is going away, exits 0", async () => {
    const cli = await start(["echo", "127.0.0.1:0"]);
    const conns = await Promise.all(Array.from({ length: 50 }, () => connectClient(cli.port)));
    clients.push(...conns);
    let stop = false;
    const sent: number[] = conns.map(() => 0);
    const answered: number[] = conns.map(() => 0);
    // Ping-pong until the signal: each client has one request in flight when it arrives.
    const loops = conns.map(async (c, i) => {
      while (!stop && !c.closed) {
        c.send(`client ${i} request ${sent[i]}`);
        sent[i]!++;
        const line = await c.readLine(10_000).catch(() => undefined);
        if (line !== `ECHO: client ${i} request ${sent[i]! - 1}`) break;
        answered[i]!++;
      }
    });
    // Every client has had answers (not a fixed 300 ms: a loaded machine may be far slower).
    for (let i = 0; i < 400 && Math.min(...answered) < 2; i++) await sleep(25);
    stop = true; // no request is sent after this point
    cli.proc.kill("SIGTERM");
    await Promise.all(loops);
    const rest = await Promise.all(conns.map((c) => c.readToEnd(10_000)));
    expect(await cli.exited).toBe(0);
    expect(answered).toEqual(sent);
    expect(Math.min(...sent)).toBeGreaterThan(1);
    for (const r of rest) expect(r).toBe("NOTICE: server shutting down\n");
    expect(cli.stderr()).toMatch(/shut down/);
  }, 30_000);

  it("exits at once on a second signal", async () => {
    const cli = await start(["echo", "127.0.0.1:0", "--drain-timeout", "30s"]);
    const c = await connectClient(cli.port);
    clients.push(c);
    c.socket.pause();
    c.write(`${"x".repeat(60_000)}\n`.repeat(100)); // replies the client never reads keep the drain waiting
    // The server has taken the requests before the signal (a fixed pause may be too short under load).
    await expect.poll(() => c.socket.writableLength, { timeout: 15_000 }).toBe(0);
    await sleep(200);
    const started = Date.now();
    cli.proc.kill("SIGTERM");
    await sleep(300);
    expect(cli.proc.exitCode).toBeNull();
    cli.proc.kill("SIGTERM");
    expect(await cli.exited).toBe(143);
    // Far below the 30 s drain; generous, since the point is "not the drain", not a speed.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("keeps server memory bounded while a client writes without reading (1 GiB attempted)", async () => {
    const cli = await start(["echo", "127.0.0.1:0", "--log-level", "warn"]);
    const pid = cli.proc.pid!;
    const before = rssKiB(pid);
    const c = await connectClient(cli.port);
    clients.push(c);
    c.socket.pause();
    const chunk = Buffer.from(`${"p".repeat(1023)}\n`.repeat(256));
    let written = 0;
    let stalled = 0;
    while (written < 1024 ** 3 && stalled < 4) {
      written += chunk.length;
      if (!c.socket.write(chunk)) {
        const drained = await Promise.race([
          new Promise<boolean>((r) => c.socket.once("drain", () => r(true))),
          sleep(250).then(() => false),
        ]);
        stalled = drained ? 0 : stalled + 1;
      }
    }
    const growthMiB = (rssKiB(pid) - before) / 1024;
    console.log(
      `echo never-reading client: wrote ${(written / 1024 ** 2).toFixed(0)} MiB, RSS +${growthMiB.toFixed(1)} MiB`,
    );
    expect(written).toBeLessThan(1024 ** 3);
    expect(growthMiB).toBeLessThan(16);
  }, 60_000);

  it("logs listening, connect and disconnect with duration and byte counts, never one line per message", async () => {
    const cli = await start(["echo", "127.0.0.1:0", "--log-format", "json"]);
    const c = await connectClient(cli.port);
    for (let i = 0; i < 100; i++) c.send(`m${i}`);
    await c.readLines(100);
    c.end();
    await c.readToEnd();
    expect(await cli.stop()).toBe(0); // resolves once the log pipe is closed: every line is read
    const records = cli
      .stderr()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const msgs = records.map((r) => r.msg);
    expect(msgs).toEqual(
      expect.arrayContaining(["listening", "connect", "disconnect", "shutting down", "shut down"]),
    );
    expect(records.length).toBeLessThan(12);
    const disconnect = records.find((r) => r.msg === "disconnect")!;
    expect(disconnect).toMatchObject({ messagesIn: 100, messagesOut: 100, reason: "peer closed" });
    expect(typeof disconnect.durationMs).toBe("number");
    expect(disconnect.bytesIn).toBeGreaterThan(0);
  });
});

describe("echoplex CLI errors and help", () => {
  it("lists every echo flag in --help", async () => {
    const { code, stdout } = await runCli(["echo", "--help"]);
    expect(code).toBe(0);
    for (const flag of [
      "--prefix",
      "--raw",
      "--port",
      "--host",
      "--framing",
      "--max-line",
      "--idle-timeout",
      "--max-connections",
      "--max-conns-per-ip",
      "--high-water",
      "--max-pending",
      "--drain-timeout",
      "--log-level",
      "--log-format",
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it("prints the version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    const { code, stdout } = await runCli(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it("reports a port in use as one line and exit 1", async () => {
    const cli = await start(["echo", "127.0.0.1:0"]);
    const { code, stderr } = await runCli(["echo", `127.0.0.1:${cli.port}`]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `echoplex: error: address 127.0.0.1:${cli.port} is already in use (ERR_ADDRESS_IN_USE)\n`,
    );
  });

  it("reports a bad address or option as one line and exit 2, never a stack trace", async () => {
    const bad = await runCli(["echo", "127.0.0.1:99999"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'echoplex: error: bad address "127.0.0.1:99999": port 99999 is above 65535 (ERR_BAD_ADDRESS)\n',
    );
    const opt = await runCli(["echo", "--idle-timeout", "soon"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/bad --idle-timeout "soon"/);
    expect(opt.stderr).not.toMatch(/at .*\.js:\d+/);
    const unknown = await runCli(["nonsense"]);
    expect(unknown.code).toBe(2);
  });
});
