// `echoplex http --admin` as a child process: exact request, answer and byte counts
// after a scripted session, a latency histogram with one sample per answer, and the
// keep-alive connection listed in /api/peers while it waits for its answer.
import { afterEach, describe, expect, it } from "vitest";
import type { PeersSnapshot, StatsSnapshot } from "../../../src/observability/snapshot.js";
import { adminJson, eventually, metric, scrape } from "../../helpers/admin.js";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { RawHttpConnection } from "../../helpers/http.js";

let cli: RunningCli | undefined;
const conns: RawHttpConnection[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.close();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

async function open(port: number): Promise<RawHttpConnection> {
  const c = await RawHttpConnection.open(port);
  conns.push(c);
  return c;
}

const http = { service: "http" };

describe("echoplex http --admin", () => {
  it("counts a scripted session exactly and times every answer", async () => {
    cli = await startCli(["http", "127.0.0.1:0", "--delay", "500ms", "--admin", "0", "--log-level", "warn"], {
      count: 2,
    });
    expect(cli.stdout()).toMatch(/echoplex admin listening on 127\.0\.0\.1:\d+ \(status page/);
    const port = cli.ports.http!;
    const admin = cli.ports.admin!;

    const before = await scrape(admin);
    expect(metric(before, "echoplex_connections_opened_total", http)).toBe(0);
    expect(metric(before, "echoplex_reply_latency_seconds_count", http)).toBe(0);

    // A: one keep-alive connection, four requests one after the other.
    const a = await open(port);
    expect(await a.get("/")).toEqual({ status: 200, body: "Hello World!" });
    expect((await a.get("/status/503")).status).toBe(503);
    expect((await a.get("/delay/0")).status).toBe(200);
    expect((await a.get("/delay/x")).status).toBe(400);

    const idle = await adminJson<PeersSnapshot>(admin, "/api/peers");
    expect(idle.total).toBe(1);
    expect(idle.peers).toHaveLength(1);
    expect(idle.peers[0]).toMatchObject({
      service: "http",
      remoteAddress: "127.0.0.1",
      remotePort: a.localPort,
      tls: false,
      status: "open",
      messagesIn: 4,
      messagesOut: 4,
      bytesIn: a.bytesSent,
      bytesOut: a.bytesReceived,
      details: { inflight: 0 },
    });

    // A's fifth request waits a second: the peer shows it in flight meanwhile.
    const fifth = a.get("/delay/1");
    await eventually(async () => {
      const p = await adminJson<PeersSnapshot>(admin, "/api/peers");
      return p.peers[0]?.details?.inflight === 1;
    }, "the delayed request to be listed in flight");
    expect(metric(await scrape(admin), "echoplex_http_requests_inflight", http)).toBe(1);
    expect((await fifth).status).toBe(200);

    // B: one request with Connection: close.
    const b = await open(port);
    expect((await b.get("/", "Connection: close\r\n")).status).toBe(200);
    await b.closed();

    await eventually(
      async () => metric(await scrape(admin), "echoplex_connections_active", http) === 1,
      "B to be gone",
    );
    const s = await scrape(admin);
    expect(metric(s, "echoplex_connections_opened_total", http)).toBe(2);
    expect(metric(s, "echoplex_messages_received_total", http)).toBe(6);
    expect(metric(s, "echoplex_messages_sent_total", http)).toBe(6);
    expect(metric(s, "echoplex_received_bytes_total", http)).toBe(a.bytesSent + b.bytesSent);
    expect(metric(s, "echoplex_sent_bytes_total", http)).toBe(a.bytesReceived + b.bytesReceived);
    expect(metric(s, "echoplex_http_responses_total", { ...http, code: "200" })).toBe(4);
    expect(metric(s, "echoplex_http_responses_total", { ...http, code: "503" })).toBe(1);
    expect(metric(s, "echoplex_http_responses_total", { ...http, code: "400" })).toBe(1);
    expect(metric(s, "echoplex_http_requests_inflight", http)).toBe(0);

    // One sample per answer: the two undelayed ones (/delay/0 and the 400) well under
    // 250 ms, three of 500 ms and one of 1 s above it.
    expect(metric(s, "echoplex_reply_latency_seconds_count", http)).toBe(6);
    expect(metric(s, "echoplex_reply_latency_seconds_bucket", { ...http, le: "0.25" })).toBe(2);
    expect(metric(s, "echoplex_reply_latency_seconds_bucket", { ...http, le: "+Inf" })).toBe(6);
    expect(metric(s, "echoplex_reply_latency_seconds_sum", http)).toBeGreaterThan(3 * 0.5 + 1 - 0.05);

    const stats = await adminJson<StatsSnapshot>(admin, "/api/stats");
    expect(stats.services[0]).toMatchObject({
      service: "http",
      connectionsActive: 1,
      connectionsOpened: 2,
      messagesIn: 6,
      messagesOut: 6,
    });

    // A closes: no peer left, its traffic stays counted.
    a.close();
    await eventually(
      async () => (await adminJson<PeersSnapshot>(admin, "/api/peers")).total === 0,
      "A to leave the peer list",
    );
    const after = await scrape(admin);
    expect(metric(after, "echoplex_connections_active", http)).toBe(0);
    expect(metric(after, "echoplex_received_bytes_total", http)).toBe(a.bytesSent + b.bytesSent);
    expect(metric(after, "echoplex_sent_bytes_total", http)).toBe(a.bytesReceived + b.bytesReceived);
  }, 30_000);

  it("counts a client that resets before its delayed answer as abandoned, with no latency sample", async () => {
    cli = await startCli(["http", "127.0.0.1:0", "--delay", "5s", "--admin", "0", "--log-level", "warn"], {
      count: 2,
    });
    const admin = cli.ports.admin!;
    const c = await open(cli.ports.http!);
    void c.get("/").catch(() => {});
    await eventually(
      async () => metric(await scrape(admin), "echoplex_http_requests_inflight", http) === 1,
      "the request to wait for its delay",
    );
    // A reset: a client that only closes its side (FIN) may still be reading, and is answered.
    c.socket.resetAndDestroy();
    await eventually(
      async () => metric(await scrape(admin), "echoplex_http_abandoned_total", http) === 1,
      "the request to be abandoned",
    );
    const s = await scrape(admin);
    expect(metric(s, "echoplex_http_requests_inflight", http)).toBe(0);
    expect(metric(s, "echoplex_connections_active", http)).toBe(0);
    expect(metric(s, "echoplex_messages_received_total", http)).toBe(1);
    expect(metric(s, "echoplex_messages_sent_total", http)).toBe(0);
    expect(metric(s, "echoplex_reply_latency_seconds_count", http)).toBe(0);
  }, 30_000);
});
