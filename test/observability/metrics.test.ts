// /metrics after a scripted session against the real CLI: exact counts of
// connections, rejections, messages, bytes and errors, plus the latency histogram
// and the process metrics.
import { afterEach, describe, expect, it } from "vitest";
import { eventually, metric, scrape } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, type TestClient } from "../helpers/net.js";

let cli: RunningCli | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

async function connect(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

describe("echoplex echo --admin: /metrics", () => {
  it("counts a scripted session exactly", async () => {
    cli = await startCli(
      [
        "echo",
        "127.0.0.1:0",
        "--admin",
        "0",
        "--max-connections",
        "2",
        "--max-line",
        "16",
        "--log-level",
        "warn",
      ],
      { count: 2 },
    );
    const port = cli.ports.echo!;
    const admin = cli.ports.admin!;
    const echo = { service: "echo" };

    const before = await scrape(admin);
    expect(metric(before, "echoplex_connections_opened_total", echo)).toBe(0);
    expect(metric(before, "echoplex_messages_received_total", echo)).toBe(0);

    // A: three lines (17 bytes in, 35 out), then a half-close.
    const a = await connect(port);
    for (const word of ["alpha", "beta", "gamma"]) {
      a.send(word);
      expect(await a.readLine()).toBe(`ECHO: ${word}`);
    }
    a.end();
    await a.readToEnd();

    // B: one line (4 bytes in, 10 out) and stays. C: connects. D: over --max-connections 2.
    const b = await connect(port);
    b.send("one");
    expect(await b.readLine()).toBe("ECHO: one");
    const c = await connect(port);
    await eventually(
      async () => metric(await scrape(admin), "echoplex_connections_active", echo) === 2,
      "B and C to be registered",
    );
    const d = await connect(port);
    expect(await d.readToEnd()).toBe("ERROR: too many connections (limit 2)\n");

    // C: a 40-byte line over --max-line 16: an error line and a close.
    c.write(`${"x".repeat(40)}\n`);
    const cReceived = await c.readToEnd();
    expect(cReceived).toBe("ERROR: line exceeds 16 bytes\n");

    await eventually(async () => {
      const s = await scrape(admin);
      return metric(s, "echoplex_connections_active", echo) === 1;
    }, "C to be gone");
    const s = await scrape(admin);
    expect(metric(s, "echoplex_connections_opened_total", echo)).toBe(3);
    expect(metric(s, "echoplex_connections_active", echo)).toBe(1);
    expect(metric(s, "echoplex_connections_rejected_total", { ...echo, reason: "max_connections" })).toBe(1);
    expect(
      metric(s, "echoplex_connections_rejected_total", { ...echo, reason: "max_connections_per_ip" }),
    ).toBe(0);
    expect(metric(s, "echoplex_messages_received_total", echo)).toBe(3 + 1);
    expect(metric(s, "echoplex_messages_sent_total", echo)).toBe(3 + 1 + 1); // C's error line too
    expect(metric(s, "echoplex_received_bytes_total", echo)).toBe(17 + 4 + 41);
    expect(metric(s, "echoplex_sent_bytes_total", echo)).toBe(35 + 10 + Buffer.byteLength(cReceived));
    expect(metric(s, "echoplex_errors_total", { ...echo, code: "ERR_LINE_TOO_LONG" })).toBe(1);
    expect(metric(s, "echoplex_errors_total", { ...echo, code: "ERR_TOO_MANY_CONNECTIONS" })).toBe(1);
    expect(metric(s, "echoplex_draining", echo)).toBe(0);

    // The first read is always timed; later ones 1 in 16.
    const samples = metric(s, "echoplex_reply_latency_seconds_count", echo)!;
    expect(samples).toBeGreaterThanOrEqual(1);
    expect(samples).toBeLessThanOrEqual(4);
    expect(metric(s, "echoplex_reply_latency_seconds_sum", echo)).toBeGreaterThan(0);
    expect(metric(s, "echoplex_reply_latency_seconds_bucket", { ...echo, le: "+Inf" })).toBe(samples);

    // The library's process metrics come along.
    expect(metric(s, "process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
    expect(metric(s, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(metric(s, "process_open_fds")).toBeGreaterThan(0);
  });

  it("times many requests with the sampled histogram", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 });
    const c = await connect(cli.ports.echo!);
    // Ping-pong: every read is one request, so 1 in 16 of them is timed.
    for (let i = 0; i < 160; i++) {
      c.send(`ping ${i}`);
      expect(await c.readLine()).toBe(`ECHO: ping ${i}`);
    }
    const s = await scrape(cli.ports.admin!);
    const count = metric(s, "echoplex_reply_latency_seconds_count", { service: "echo" })!;
    expect(count).toBeGreaterThanOrEqual(5);
    expect(count).toBeLessThanOrEqual(20);
    expect(metric(s, "echoplex_messages_received_total", { service: "echo" })).toBe(160);
  });
});
