// The attack cases against `echoplex cmd`: hostile payloads, a slow reader, a flood
// held by --rate-limit, a slowloris held by --line-timeout.
import { describe, expect, it } from "vitest";
import { sleep } from "../helpers/net.js";
import { ControlClient, connectFrom, startService, verdict } from "./harness.js";
import { CMD_DIALOGUE, hugeLine, type LineTarget, randomBinary, slowReader } from "./services.js";

const BOUND_MIB = 150;
const cmd = (args: string[] = []): LineTarget => ({
  name: "cmd",
  start: () => startService("cmd", args),
  dialogue: CMD_DIALOGUE,
});

describe("attack: cmd", () => {
  it("a 100 MiB line", () => hugeLine(cmd(), BOUND_MIB));

  it("100 MiB of random binary: every line answered with an error, then closed at FIN", async () => {
    const got = Buffer.concat(await randomBinary(cmd(), BOUND_MIB)).toString("latin1");
    expect(got).toMatch(/^ERROR: Unknown command "/);
  });

  it("a slow reader is paused at --high-water, memory bounded", () =>
    slowReader(cmd(), BOUND_MIB, (i) => `ECHO ${i} ${"x".repeat(1000)}`, 20_000));

  it("a flood is cut by --rate-limit: the error line, then a disconnect after --rate-grace", async () => {
    const cli = await startService("cmd", ["--rate-limit", "500", "--rate-grace", "1s"]);
    const control = await ControlClient.start(cli.port, { dialogue: CMD_DIALOGUE });
    const flooder = await connectFrom(cli.port);
    const burst = "PING\n".repeat(5000);
    const started = Date.now();
    while (!flooder.closed && Date.now() - started < 15_000) {
      flooder.write(burst);
      await sleep(50);
    }
    const all = await flooder.readToEnd(10_000);
    expect(all).toContain("ERROR: rate limit exceeded (500 messages/s)\n");
    expect(all).toMatch(/ERROR: rate limit exceeded \(500 messages\/s\) for 1 s, disconnecting\n$/);
    const pongs = all.split("PONG").length - 1;
    await verdict(
      "cmd: PING flood at --rate-limit 500",
      cli,
      control,
      BOUND_MIB,
      `flooder answered ${pongs} PONGs, disconnected after ${Date.now() - started} ms`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it("a slowloris (a byte every 100 ms, never a line end) is closed by --line-timeout", async () => {
    const cli = await startService("cmd", ["--line-timeout", "1s"]);
    const control = await ControlClient.start(cli.port, { dialogue: CMD_DIALOGUE });
    const lorises = await Promise.all(Array.from({ length: 50 }, () => connectFrom(cli.port)));
    const started = Date.now();
    while (lorises.some((c) => !c.closed) && Date.now() - started < 15_000) {
      for (const c of lorises) if (!c.closed) c.write("E");
      await sleep(100);
    }
    const all = await Promise.all(lorises.map((c) => c.readToEnd(10_000)));
    expect(all.every((d) => d === "ERROR: line timeout: line not completed within 1 s, closing\n")).toBe(
      true,
    );
    await verdict(
      "cmd: 50 slowloris peers",
      cli,
      control,
      BOUND_MIB,
      `all closed by --line-timeout 1s after ${Date.now() - started} ms`,
    );
    expect(await cli.stop()).toBe(0);
  });
});
