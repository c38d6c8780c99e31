// SIGTERM under load: every request that reached the server before the signal is
// answered, each peer gets the shutdown notice, and the process exits 0.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { adminGet, adminJson, metric, parseMetrics } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { sleep } from "../helpers/net.js";
import { connectFrom, memoryOf, startTarget } from "./harness.js";

describe("attack: SIGTERM under load", () => {
  it("answers every request sent before the signal, then the notice, then exits 0", async () => {
    const cli = await startTarget();
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectFrom(cli.port)));
    let stopped = false;
    /** Per client: requests whose bytes the kernel had taken before the signal was sent. */
    const acked = clients.map(() => 0);
    const sent = clients.map(() => 0);
    const loops = clients.map(async (c, i) => {
      while (!stopped) {
        let burst = "";
        const first = sent[i]!;
        for (let k = 0; k < 50; k++) burst += `c${i}-${first + k}\n`;
        sent[i] = first + 50;
        await new Promise<void>((resolve) =>
          c.socket.write(burst, () => {
            if (!stopped) acked[i] = first + 50;
            resolve();
          }),
        );
        await sleep(20);
      }
    });
    await sleep(1000);
    stopped = true;
    const peak = memoryOf(cli).peakMiB;
    const signalled = Date.now();
    const exit = cli.stop("SIGTERM");
    await Promise.all(loops);
    const replies = await Promise.all(clients.map((c) => c.readToEnd(15_000)));
    let answered = 0;
    let acknowledged = 0;
    replies.forEach((text, i) => {
      const lines = text.split("\n");
      expect(lines.pop()).toBe(""); // ends in a newline
      expect(lines.pop()).toBe("NOTICE: server shutting down");
      // Replies are in order, with no gaps: exactly requests 0 .. n-1.
      for (const [n, line] of lines.entries()) expect(line).toBe(`ECHO: c${i}-${n}`);
      expect(lines.length).toBeGreaterThanOrEqual(acked[i]!);
      answered += lines.length;
      acknowledged += acked[i]!;
    });
    expect(await exit).toBe(0);
    console.log(
      `[attack] SIGTERM under load: server peak RSS ${peak.toFixed(1)} MiB; 20 clients, ` +
        `${acknowledged} requests sent before the signal, ${answered} answered (all of them), ` +
        `notice to every client, exit 0 after ${Date.now() - signalled} ms`,
    );
  });
});

/** Line `n` of a slow reader's requests: 100 bytes with the newline. */
const request = (n: number) => `slow-${String(n).padStart(8, "0")}-${"x".repeat(85)}\n`;

/** Writes lines `from` .. `to - 1` without reading, waiting for the socket's own buffer to drain. */
async function writeLines(socket: Socket, from: number, to: number): Promise<void> {
  for (let n = from; n < to; ) {
    let burst = "";
    const end = Math.min(to, n + 1000);
    for (; n < end; n++) burst += request(n);
    if (!socket.write(burst)) await once(socket, "drain");
  }
}

/** Resumes a socket that was never read and collects everything until the server ends it. */
async function readToEof(socket: Socket, timeoutMs: number): Promise<{ text: string; how: string }> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const how = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    socket.once("end", () => resolve("end"));
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve("close");
    });
    socket.resume();
  });
  return { text: Buffer.concat(chunks).toString("latin1"), how };
}

/** The server's JSON log lines, every field. */
function logsOf(cli: RunningCli): Array<Record<string, unknown>> {
  return cli
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.endsWith("}"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function rawClient(port: number): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await once(socket, "connect");
  socket.pause(); // never read until the test says so
  return socket;
}

describe("attack: SIGTERM while a peer is not reading its replies", () => {
  it("keeps sending to a peer that pauses longer than the linger: every reply, then the notice (--drain-timeout 10s)", async () => {
    // A high --high-water so that the server reads every line: it answers what it has read.
    // 8 MB of replies is more than loopback's kernel buffers hold for a peer that does not
    // read (~4.3 MB here: 4 MiB send buffer, 128 KiB receive), so MBs wait in the server.
    const lines = 80_000;
    const cli = await startCli(
      [
        "echo",
        "127.0.0.1:0",
        "--drain-timeout",
        "10s",
        "--high-water",
        "32m",
        "--max-pending",
        "64m",
        "--admin",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      { count: 2 },
    );
    const socket = await rawClient(cli.ports.echo!);
    await writeLines(socket, 0, lines);
    const admin = cli.ports.admin!;
    const readByServer = async () =>
      (await adminJson<{ peers: Array<{ messagesIn: number }> }>(admin, "/api/peers")).peers[0]?.messagesIn;
    await expect.poll(readByServer, { timeout: 20_000, interval: 100 }).toBe(lines);
    const signalled = Date.now();
    const exit = cli.stop("SIGTERM");
    // Longer than the 2 s linger that used to cut the connection off.
    await sleep(3000);
    const { text, how } = await readToEof(socket, 20_000);
    const replies = text.split("\n");
    const unterminated = replies.pop();
    const notice = replies.at(-1) === "NOTICE: server shutting down" ? replies.pop() : undefined;
    expect({ replies: replies.length, notice, unterminated }).toEqual({
      replies: lines,
      notice: "NOTICE: server shutting down",
      unterminated: "",
    });
    for (const [n, line] of replies.entries()) {
      if (line !== `ECHO: ${request(n).slice(0, -1)}`) expect(line).toBe(`ECHO: ${request(n).slice(0, -1)}`);
    }
    expect(how).not.toBe("timeout");
    expect(await exit).toBe(0);
    const warnings = logsOf(cli).filter((l) => l.level === 40);
    expect(warnings).toEqual([]);
    console.log(
      `[attack] slow reader at SIGTERM: ${lines} lines, ${text.length} bytes of replies all delivered ` +
        `after a 3 s pause, exit 0 after ${Date.now() - signalled} ms`,
    );
  });

  it("resets a peer that never reads at --drain-timeout, logs its unsent bytes at warn, and exits 0", async () => {
    // --high-water 8m: paused, the server holds more replies than the kernel can take
    // for a peer that never reads (a pause at 256 KiB can be loopback lag, gone by the
    // drain timeout), so they are still unsent when it runs out.
    const cli = await startCli(
      [
        "echo",
        "127.0.0.1:0",
        "--drain-timeout",
        "1s",
        "--high-water",
        "8m",
        "--max-pending",
        "32m",
        "--admin",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      { count: 2 },
    );
    const socket = await rawClient(cli.ports.echo!);
    // Write until the server stops reading. A full socket waits for 'drain' or the pause,
    // whichever comes first: once the server stops reading, 'drain' may never come.
    const metrics = async () => parseMetrics((await adminGet(cli.ports.admin!, "/metrics")).body);
    const paused = async () =>
      (metric(await metrics(), "echoplex_backpressure_pauses_total", { service: "echo" }) ?? 0) > 0;
    let writable = true;
    socket.on("drain", () => {
      writable = true;
    });
    const deadline = Date.now() + 30_000;
    for (let sent = 0; !(await paused()); ) {
      expect(Date.now()).toBeLessThan(deadline);
      if (!writable) {
        await sleep(20);
        continue;
      }
      let burst = "";
      for (const end = sent + 1000; sent < end; sent++) burst += request(sent);
      writable = socket.write(burst);
    }
    const signalled = Date.now();
    expect(await cli.stop("SIGTERM")).toBe(0);
    const tookMs = Date.now() - signalled;
    const logs = logsOf(cli);
    const cut = logs.find((l) => l.msg === "drain timeout: replies not sent, resetting the connection");
    expect(cut).toBeDefined();
    expect(cut!.level).toBe(40);
    expect(cut!.unsentBytes as number).toBeGreaterThanOrEqual(256 * 1024);
    const summary = logs.find((l) => l.msg === "drain timeout: force-closing the remaining connections");
    expect(summary).toMatchObject({ level: 40, reset: 1, unsentBytes: cut!.unsentBytes });
    expect(logs.find((l) => l.msg === "disconnect")).toMatchObject({ reason: "drain timeout" });
    // The peer's stream ends without the notice: not a clean end after its last reply.
    const { text } = await readToEof(socket, 15_000);
    expect(text).not.toContain("NOTICE");
    console.log(
      `[attack] never-reading peer at SIGTERM, --drain-timeout 1s: ${String(cut!.unsentBytes)} unsent bytes ` +
        `logged at warn, connection reset, exit 0 after ${tookMs} ms`,
    );
  });
});

/**
 * curl posting `bodyFile` to /echo with its output not read until `read()`: curl blocks
 * writing to its stdout and stops reading the socket, a client slow to take its answer.
 */
function slowCurl(port: number, bodyFile: string) {
  const curl = spawn("curl", ["-sS", "--data-binary", `@${bodyFile}`, `http://127.0.0.1:${port}/echo`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  curl.stdout.pause();
  let stderr = "";
  curl.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    curl.once("close", (code: number | null) => resolve(code)),
  );
  return {
    async read(): Promise<{ code: number | null; out: string; stderr: string }> {
      const chunks: Buffer[] = [];
      curl.stdout.on("data", (c: Buffer) => chunks.push(c));
      curl.stdout.resume();
      const code = await Promise.race([exited, sleep(20_000).then(() => "timeout" as const)]);
      if (code === "timeout") curl.kill("SIGKILL");
      return { code: code === "timeout" ? -1 : code, out: Buffer.concat(chunks).toString("latin1"), stderr };
    },
  };
}

describe("attack: SIGTERM while an HTTP client is not reading its answer", () => {
  let bodyFile: string;
  const bodyBytes = 16_000_000; // a 16 MB answer: far more than the kernel holds (up to ~5 MB seen) for curl not reading
  beforeAll(async () => {
    bodyFile = join(await mkdtemp(join(tmpdir(), "echoplex-drain-")), "body.txt");
    await writeFile(bodyFile, "x".repeat(bodyBytes));
  });

  async function startHttp(drainTimeout: string): Promise<RunningCli> {
    const cli = await startCli(
      [
        "http",
        "127.0.0.1:0",
        "--delay",
        "0",
        "--max-body",
        "32m",
        "--drain-timeout",
        drainTimeout,
        "--admin",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      { count: 2 },
    );
    return cli;
  }

  /** Until the answer has been handed to the socket (counted when written). */
  async function answerWritten(cli: RunningCli): Promise<void> {
    const answered = async () =>
      metric(
        parseMetrics((await adminGet(cli.ports.admin!, "/metrics")).body),
        "echoplex_http_responses_total",
        {
          code: "200",
        },
      ) ?? 0;
    await expect.poll(answered, { timeout: 20_000, interval: 100 }).toBe(1);
  }

  it("delivers the whole answer to curl reading only after a 3 s pause (--drain-timeout 10s)", async () => {
    const cli = await startHttp("10s");
    const curl = slowCurl(cli.ports.http!, bodyFile);
    await answerWritten(cli);
    const exit = cli.stop("SIGTERM");
    await sleep(3000);
    const { code, out, stderr } = await curl.read();
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect((JSON.parse(out) as { body: string }).body.length).toBe(bodyBytes);
    expect(await exit).toBe(0);
  });

  it("resets curl at --drain-timeout when it never reads, with the unsent bytes at warn; exit 0", async () => {
    const cli = await startHttp("1s");
    const curl = slowCurl(cli.ports.http!, bodyFile);
    await answerWritten(cli);
    const signalled = Date.now();
    expect(await cli.stop("SIGTERM")).toBe(0);
    const tookMs = Date.now() - signalled;
    const logs = logsOf(cli);
    const cut = logs.find((l) => l.msg === "drain timeout: answers not sent, resetting the connection");
    expect(cut).toMatchObject({ level: 40, inflight: 1 });
    expect(cut!.unsentBytes as number).toBeGreaterThan(0);
    const { code, stderr } = await curl.read();
    // A reset, not a FIN that only the Content-Length shows to be early.
    expect({ code, stderr: stderr.trim() }).toEqual({
      code: 56,
      stderr: "curl: (56) Recv failure: Connection reset by peer",
    });
    console.log(
      `[attack] curl not reading its 16 MB answer at SIGTERM, --drain-timeout 1s: ${String(cut!.unsentBytes)} ` +
        `unsent bytes logged at warn, curl saw a reset, exit 0 after ${tookMs} ms`,
    );
  });
});
