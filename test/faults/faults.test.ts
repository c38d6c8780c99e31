// Fault injection through the real CLI and real sockets: each fault's effect, measured
// with real clocks and generous upper bounds (the machine is loaded).
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { adminGet, parseMetrics } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";

let cli: RunningCli | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop();
  cli = undefined;
});

async function echo(...args: string[]): Promise<RunningCli> {
  cli = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn", ...args]);
  return cli;
}

async function client(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

/** The times of `n` request/reply round trips on one connection, in ms. */
async function roundTrips(c: TestClient, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    c.send(`ping ${i}`);
    expect(await c.readLine()).toBe(`ECHO: ping ${i}`);
    times.push(performance.now() - start);
  }
  return times;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function faultsApplied(admin: number, fault: string): Promise<number> {
  const { body } = await adminGet(admin, "/metrics");
  const sample = parseMetrics(body).find(
    (s) => s.name === "echoplex_faults_applied_total" && s.labels.fault === fault,
  );
  return sample?.value ?? 0;
}

describe("--fault on a service", () => {
  it("latency=200ms shifts the reply p50 by at least 200 ms", async () => {
    // Both servers at once and their round trips interleaved: the machine's load weighs on both alike.
    const plain = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
    try {
      const slow = await echo("--fault", "latency=200ms");
      const [a, b] = [await client(plain.port), await client(slow.port)];
      const direct: number[] = [];
      const slowed: number[] = [];
      for (let i = 0; i < 11; i++) {
        direct.push(...(await roundTrips(a, 1)));
        slowed.push(...(await roundTrips(b, 1)));
      }
      const shift = median(slowed) - median(direct);
      expect(
        shift,
        `p50 ${median(direct).toFixed(1)} ms → ${median(slowed).toFixed(1)} ms`,
      ).toBeGreaterThanOrEqual(200);
      expect(median(slowed)).toBeLessThan(200 + 2000);
    } finally {
      await plain.stop();
    }
  });

  it("bandwidth=64k makes 256 KiB take 3.5 to 5 s", async () => {
    const { port } = await echo("--raw", "--fault", "bandwidth=64k");
    const c = await client(port);
    const payload = Buffer.alloc(256 * 1024, "abcdefgh");
    const start = performance.now();
    c.write(payload);
    await c.waitFor((d) => d.length >= payload.length, 20_000, "256 KiB back");
    const seconds = (performance.now() - start) / 1000;
    expect(c.received.equals(payload)).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(3.5);
    expect(seconds).toBeLessThanOrEqual(5);
  });

  it("reset=1: the client sees its first reply, then ECONNRESET", async () => {
    const { port } = await echo("--fault", "reset=1");
    const socket = connect({ port, host: "127.0.0.1" });
    let got = "";
    socket.on("data", (d: Buffer) => {
      got += d.toString();
    });
    const failure = new Promise<{ code?: string }>((resolve) => {
      socket.once("error", resolve);
      // "error" comes before "close": this one settles only if no error came.
      socket.once("close", () => resolve({ code: "closed without an error" }));
    });
    socket.write("first\n");
    const err = await failure;
    expect(err.code).toBe("ECONNRESET");
    expect(got).toBe("ECHO: first\n");
  });

  it("slice=1-64 keeps replies byte-identical while splitting them into small writes", async () => {
    const { port } = await echo("--fault", "slice=1-64");
    const c = await client(port);
    let chunks = 0;
    c.socket.on("data", () => chunks++);
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${"é✓x".repeat(i % 7)}`);
    c.write(`${lines.join("\n")}\n`);
    const expected = Buffer.from(lines.map((l) => `ECHO: ${l}\n`).join(""));
    await c.waitFor((d) => d.length >= expected.length, 20_000, "every reply");
    expect(c.received.equals(expected)).toBe(true);
    // Slices of at most 64 bytes, each written after a pause: many reads, none longer.
    expect(chunks).toBeGreaterThanOrEqual(Math.ceil(expected.length / 64));
  });

  it("stall=1s holds the first reply, later ones are prompt", async () => {
    const { port } = await echo("--fault", "stall=1s");
    const [first, ...rest] = await roundTrips(await client(port), 3);
    expect(first).toBeGreaterThanOrEqual(1000);
    for (const t of rest) expect(t).toBeLessThan(900);
  });

  it("corrupt=1 flips one byte of each reply", async () => {
    const { port } = await echo("--raw", "--fault", "corrupt=1");
    const c = await client(port);
    c.write("0123456789");
    await c.waitFor((d) => d.length >= 10, 15_000, "10 bytes");
    const got = c.received;
    const diffs = [...got].filter((byte, i) => byte !== "0123456789".charCodeAt(i));
    expect(diffs).toHaveLength(1);
  });

  it("truncate=1 cuts the reply short and ends the connection; close=1 ends it after a whole reply", async () => {
    const truncated = await client((await echo("--fault", "truncate=1")).port);
    truncated.send("a somewhat long line to cut");
    const cut = await truncated.readToEnd();
    expect("ECHO: a somewhat long line to cut\n".startsWith(cut)).toBe(true);
    expect(cut.length).toBeLessThan("ECHO: a somewhat long line to cut\n".length);
    await cli!.stop();
    const closed = await client((await echo("--fault", "close=1")).port);
    closed.send("whole");
    expect(await closed.readToEnd()).toBe("ECHO: whole\n");
  });

  it("--fault-share 0 leaves every connection unfaulted", async () => {
    const { port } = await echo("--fault", "latency=2s", "--fault-share", "0");
    for (const t of await roundTrips(await client(port), 3)) expect(t).toBeLessThan(1500);
  });

  it("drop=1 on a udp:// door drops each reply datagram, counted in metrics", async () => {
    cli = await startCli(
      ["echo", "udp://127.0.0.1:0", "--admin", "0", "--fault", "drop=1", "--log-level", "warn"],
      { count: 2 },
    );
    const admin = cli.ports.admin!;
    const port = Object.entries(cli.ports).find(([name]) => name !== "admin")![1];
    const udp = createSocket("udp4");
    let replies = 0;
    udp.on("message", () => replies++);
    try {
      for (let i = 0; i < 3; i++) udp.send(`datagram ${i}\n`, port, "127.0.0.1");
      const deadline = Date.now() + 15_000;
      while ((await faultsApplied(admin, "drop")) < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await faultsApplied(admin, "drop")).toBe(3);
      // The replies would have left when the drops were counted: none came.
      expect(replies).toBe(0);
    } finally {
      udp.close();
    }
  });

  it("chat: a faulted reader whose held messages pass --max-pending is disconnected (memory stays bounded)", async () => {
    cli = await startCli(
      [
        "chat",
        "127.0.0.1:0",
        "--admin",
        "0",
        "--high-water",
        "16k",
        "--max-pending",
        "32k",
        "--flood-rate",
        "0",
        "--log-level",
        "warn",
      ],
      { count: 2 },
    );
    const [sender, reader] = [await client(cli.ports.chat!), await client(cli.ports.chat!)];
    await sender.waitFor((d) => d.length > 0, 15_000, "the welcome");
    await reader.waitFor((d) => d.length > 0, 15_000, "the welcome");
    // Every reply from now on waits 60 s in the stage: the reader's pile only grows.
    const res = await fetch(`http://127.0.0.1:${cli.ports.admin}/api/faults`, {
      method: "POST",
      body: JSON.stringify({ fault: "latency=60s" }),
    });
    expect(res.status).toBe(201);
    const line = `${"x".repeat(200)}\n`;
    for (let i = 0; i < 400 && !reader.closed; i++) sender.write(line);
    await Promise.race([
      reader.closedPromise,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("the reader was not disconnected")), 20_000),
      ),
    ]);
    const metrics = parseMetrics((await adminGet(cli.ports.admin!, "/metrics")).body);
    const slow = metrics.find(
      (s) => s.name === "echoplex_errors_total" && s.labels.code === "ERR_SLOW_CONSUMER",
    );
    expect(slow?.value).toBeGreaterThanOrEqual(1);
  });

  it("a bad --fault exits 2 with ERR_FAULT_SYNTAX", async () => {
    const result = await runCli(["echo", "127.0.0.1:0", "--fault", "latency=soon"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad fault "latency=soon".*ERR_FAULT_SYNTAX/);
  });

  it("nc sees replies byte-identical through slice", async () => {
    const { port } = await echo("--fault", "slice=1-8");
    const nc = spawn("nc", ["-q", "2", "127.0.0.1", String(port)], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    nc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    nc.stdin.on("error", () => {});
    nc.stdin.end("one\ntwo\nthree\n");
    const deadline = Date.now() + 15_000;
    while (out.length < "ECHO: one\nECHO: two\nECHO: three\n".length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    nc.kill();
    expect(out).toBe("ECHO: one\nECHO: two\nECHO: three\n");
  });
});
