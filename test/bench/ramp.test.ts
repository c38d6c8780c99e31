// --ramp-conns against the real echo service with its admin endpoint: the server's own
// count of open connections, scraped while the bench runs, grows over the ramp instead
// of jumping to the total before the run, and the bench's per-second figures follow it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric, scrape } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

const echoLabels = { service: "echo" };
let echo: RunningCli;
beforeAll(async () => {
  echo = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 });
});
afterAll(async () => {
  await echo?.stop();
});

interface Sample {
  /** Milliseconds since the bench was started. */
  at: number;
  open: number;
}

describe("bench --ramp-conns", () => {
  it("opens its connections over the ramp: the server sees them arrive, not all at once", async () => {
    const admin = echo.ports.admin!;
    const opened = async () =>
      metric(await scrape(admin), "echoplex_connections_opened_total", echoLabels) ?? Number.NaN;
    const before = await opened();
    expect(before).toBe(0);
    const t0 = performance.now();
    const run = bench(
      ["echo", `127.0.0.1:${echo.port}`, "--prefix", "ECHO: ", "--ramp-conns", "40/2s", "--duration", "1s"],
      60_000,
    );
    let finished = false;
    void run.finally(() => {
      finished = true;
    });
    // The server's count of connections accepted, as often as it answers, until the bench ends.
    const samples: Sample[] = [];
    for (let i = 0; i < 2000 && !finished; i++) {
      samples.push({ at: performance.now() - t0, open: await opened() });
      await new Promise((r) => setTimeout(r, 40));
    }
    const { code, result } = await run;
    expect(code).toBe(0);
    expect(result.conns).toBe(40);
    expect(result.ok).toBe(result.sent);

    const trace = JSON.stringify(samples.map((s) => [Math.round(s.at), s.open]));
    const firstAt = (n: number) => samples.find((s) => s.open >= n)?.at;
    const tenAt = firstAt(10);
    const allAt = firstAt(40);
    expect(tenAt, trace).toBeDefined();
    expect(allAt, trace).toBeDefined();
    // On a 2 s ramp the 10th connection comes about 0.5 s in and the 40th at 2 s: 1.5 s
    // apart (at least 0.8 s allowing for a slow scrape). Dialed before the run, all 40
    // would arrive within a few milliseconds of each other.
    expect(allAt! - tenAt!, trace).toBeGreaterThanOrEqual(800);
    // Some scrape saw the ramp half-way: neither none nor all of them.
    expect(
      samples.some((s) => s.open >= 5 && s.open <= 35),
      trace,
    ).toBe(true);

    // The bench's own per-second figures: about 20 connections carrying load at 1 s, 40 from 2 s.
    const seconds = result.perSecond ?? [];
    const at = (t: number) => seconds.find((s) => Math.abs(s.t - t) < 0.3);
    const first = at(1)?.conns;
    expect(first, JSON.stringify(seconds)).toBeGreaterThanOrEqual(12);
    expect(first, JSON.stringify(seconds)).toBeLessThanOrEqual(28);
    expect(seconds.at(-1)?.conns, JSON.stringify(seconds)).toBe(40);
    expect(seconds[0]!.replies).toBeGreaterThan(0);
  });
});
