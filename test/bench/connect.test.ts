import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";

let server: RunningCli | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("bench connect", () => {
  it("opens and holds --conns connections, measuring connect time", async () => {
    server = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
    const { code, result } = await bench([
      "connect",
      `127.0.0.1:${server.port}`,
      "--conns",
      "300",
      "--duration",
      "1s",
    ]);
    expect(code).toBe(0);
    expect(result.connect).toMatchObject({
      attempted: 300,
      opened: 300,
      failed: 0,
      heldAtEnd: 300,
      holdSeconds: 1,
    });
    expect(result.latencyUs.count).toBe(300);
    expect(result.msgsPerSec).toBeGreaterThan(0);
  });

  it("dials at --rate, never faster", async () => {
    server = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"]);
    const { code, result } = await bench([
      "connect",
      `127.0.0.1:${server.port}`,
      "--conns",
      "200",
      "--rate",
      "500",
      "--duration",
      "0",
    ]);
    expect(code).toBe(0);
    expect(result.connect?.opened).toBe(200);
    // 200 dials at 500/s take at least 0.398 s (the first goes at t=0).
    expect(result.connect?.rampSeconds).toBeGreaterThanOrEqual(0.39);
    expect(result.msgsPerSec).toBeLessThanOrEqual(520);
  });

  it("counts the connections a server drops during the hold", async () => {
    server = await startCli(["echo", "127.0.0.1:0", "--log-level", "error", "--max-connections", "50"]);
    const { code, result } = await bench([
      "connect",
      `127.0.0.1:${server.port}`,
      "--conns",
      "80",
      "--duration",
      "1s",
    ]);
    expect(code).toBe(1);
    expect(result.connect?.heldAtEnd).toBe(50);
    const dropped = (result.errors.closed ?? 0) + (result.errors.closed_during_hold ?? 0);
    expect(dropped).toBe(30);
  });
});
