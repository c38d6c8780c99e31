// The rate limiter's arithmetic (clock passed in), then the engine's rate limit and
// line deadline over real sockets.
import { afterEach, describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/core/rate-limit.js";
import type { EchoplexServer } from "../../src/core/server.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

describe("RateLimiter", () => {
  it("passes a burst, drops the excess (announcing the first), refills at the rate", () => {
    const t0 = 1_000_000;
    const r = new RateLimiter(10, 5, 3000, t0);
    r.refill(t0);
    const verdicts = Array.from({ length: 8 }, () => r.take());
    expect(verdicts).toEqual(["pass", "pass", "pass", "pass", "pass", "first-drop", "drop", "drop"]);
    r.refill(t0 + 200); // 2 tokens earned
    expect([r.take(), r.take(), r.take()]).toEqual(["pass", "pass", "drop"]);
    expect(r.dropped).toBe(4);
    r.refill(t0 + 60_000); // capped at the burst
    expect(Array.from({ length: 6 }, () => r.take()).filter((v) => v === "pass")).toHaveLength(5);
  });

  it("disconnects only after continuous excess for the grace period; a quiet second resets it", () => {
    const t0 = 1_000_000;
    const r = new RateLimiter(10, 10, 3000, t0);
    const flood = (at: number) => {
      r.refill(at);
      const out = new Set<string>();
      for (let i = 0; i < 50; i++) out.add(r.take());
      return out;
    };
    expect(flood(t0).has("first-drop")).toBe(true);
    expect(flood(t0 + 900).has("disconnect")).toBe(false);
    expect(flood(t0 + 1800).has("disconnect")).toBe(false);
    // A pause longer than a second ends the episode: it starts over, announced again.
    expect(flood(t0 + 3500).has("first-drop")).toBe(true);
    expect(flood(t0 + 4400).has("disconnect")).toBe(false);
    expect(flood(t0 + 5300).has("disconnect")).toBe(false);
    expect(flood(t0 + 6200).has("disconnect")).toBe(false);
    expect(flood(t0 + 7000).has("disconnect")).toBe(true);
  });
});

let server: EchoplexServer<undefined> | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server?.shutdown({ drainTimeoutMs: 500 });
  server = undefined;
});

async function client(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m${from + i}\n`).join("");

describe("engine rate limit (--rate-limit)", () => {
  it("answers the burst, tells the peer once, drops the rest, and serves it again later", async () => {
    server = createEchoServer({ limits: { maxMessagesPerSecond: 10, rateBurst: 10 } });
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.write(lines(0, 30));
    const got = await c.readLines(11, 10_000);
    expect(got.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `ECHO: m${i}`));
    expect(got[10]).toBe("ERROR: rate limit exceeded (10 messages/s)");
    await sleep(300);
    expect(c.received.length).toBe(0); // the other 19 were dropped, quietly
    expect(c.closed).toBe(false);
    await sleep(1200); // the bucket refills
    c.send("again");
    expect(await c.readLine(10_000)).toBe("ECHO: again");
    expect(server.stats().errors.get("ERR_RATE_LIMITED")).toBe(1);
  });

  it("disconnects a peer over the limit for the grace period; another peer is served throughout", async () => {
    server = createEchoServer({ limits: { maxMessagesPerSecond: 20, rateGraceMs: 1000 } });
    const { port } = await server.listen("127.0.0.1:0");
    const flooder = await client(port);
    const polite = await client(port);
    let n = 0;
    const deadline = Date.now() + 15_000;
    while (!flooder.closed && Date.now() < deadline) {
      flooder.write(lines(n, 100));
      n += 100;
      polite.send(`p${n}`);
      expect(await polite.readLine(10_000)).toBe(`ECHO: p${n}`);
      await sleep(100);
    }
    const all = await flooder.readToEnd(10_000);
    expect(all).toContain("ERROR: rate limit exceeded (20 messages/s)\n");
    expect(all.trimEnd().split("\n").at(-1)).toBe(
      "ERROR: rate limit exceeded (20 messages/s) for 1 s, disconnecting",
    );
    polite.send("still here");
    expect(await polite.readLine(10_000)).toBe("ECHO: still here");
    expect(server.stats().errors.get("ERR_RATE_LIMITED")).toBeGreaterThanOrEqual(2);
  });

  it("is off by default: a 20,000-line burst is answered in full", async () => {
    server = createEchoServer();
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.write(lines(0, 20_000));
    await c.waitFor((d) => d.includes("ECHO: m19999\n"), 20_000, "the last reply");
    expect(server.stats().errors.get("ERR_RATE_LIMITED")).toBeUndefined();
  });
});

describe("engine line deadline (--line-timeout)", () => {
  it("closes a slowloris whose line never completes, with an error line; complete lines are not affected", async () => {
    server = createEchoServer({ limits: { lineTimeoutMs: 600 } });
    const { port } = await server.listen("127.0.0.1:0");
    const slow = await client(port);
    const polite = await client(port);
    const started = Date.now();
    let i = 0;
    // One byte every 100 ms: never idle, never a complete line.
    while (!slow.closed && Date.now() - started < 15_000) {
      slow.write("x");
      if (i++ % 5 === 0) {
        polite.send(`p${i}`);
        expect(await polite.readLine(10_000)).toBe(`ECHO: p${i}`);
      }
      await sleep(100);
    }
    const all = await slow.readToEnd(10_000);
    expect(all).toBe("ERROR: line timeout: line not completed within 600 ms, closing\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    // The polite client was quiet between lines for longer than the deadline: still open.
    await sleep(800);
    polite.send("after");
    expect(await polite.readLine(10_000)).toBe("ECHO: after");
    expect(server.stats().errors.get("ERR_LINE_TIMEOUT")).toBe(1);
  });

  it("a line split over pauses shorter than the deadline is answered; each line gets its own deadline", async () => {
    // Pauses of 800 ms against a 2 s deadline: 1.2 s of slack for a loaded machine, and
    // three lines take longer than one deadline, so each line must get its own.
    server = createEchoServer({ limits: { lineTimeoutMs: 2000 } });
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    for (let k = 0; k < 3; k++) {
      c.write(`part${k}-a `);
      await sleep(800);
      c.write("b\n");
      expect(await c.readLine(10_000)).toBe(`ECHO: part${k}-a b`);
    }
    expect(c.closed).toBe(false);
  });

  it("0 turns it off", async () => {
    server = createEchoServer({ limits: { lineTimeoutMs: 0, idleTimeoutMs: 0 } });
    const { port } = await server.listen("127.0.0.1:0");
    const c = await client(port);
    c.write("partial");
    await sleep(1500);
    c.write(" line\n");
    expect(await c.readLine(10_000)).toBe("ECHO: partial line");
  });
});
