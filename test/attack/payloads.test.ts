// Hostile payloads: a 100 MiB line, 100 MiB of random binary, a 4 GiB length prefix.
// The server must answer within its limits, never buffer what it was sent, and keep
// serving a well-behaved client alongside.
import { randomFillSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeFrame } from "../../src/codecs/length-prefixed.js";
import { ControlClient, connectFrom, MiB, pump, startTarget, verdict } from "./harness.js";

/** A peak RSS above this would mean the server held a large part of the 100 MiB it was sent. */
const BOUND_MIB = 150;

describe("attack: hostile payloads", () => {
  it("a 100 MiB line gets the line-limit error and a close; nothing is buffered", async () => {
    const cli = await startTarget();
    const control = await ControlClient.start(cli.port);
    // The attacker ignores the server's FIN (half-open) and keeps sending all 100 MiB.
    const attacker = await connectFrom(cli.port, "127.0.0.1", { allowHalfOpen: true });
    const written = await pump(attacker.socket, Buffer.alloc(MiB, 0x61), 100);
    attacker.socket.end();
    expect(await attacker.readToEnd(15_000)).toBe("ERROR: line exceeds 65536 bytes\n");
    await verdict(
      "100 MiB line",
      cli,
      control,
      BOUND_MIB,
      `attacker wrote ${(written / MiB).toFixed(0)} MiB before the close`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it("100 MiB of random binary is echoed line by line, byte-exact in length", async () => {
    const cli = await startTarget();
    const control = await ControlClient.start(cli.port);
    const attacker = await connectFrom(cli.port);
    let received = 0;
    let tail: Buffer = Buffer.alloc(0);
    attacker.socket.removeAllListeners("data");
    attacker.socket.on("data", (d: Buffer) => {
      received += d.length;
      tail = d.length >= 64 ? d.subarray(d.length - 64) : Buffer.concat([tail, d]).subarray(-64);
    });
    const closed = new Promise<void>((resolve) => attacker.socket.once("close", () => resolve()));
    // Each reply is "ECHO: " + the line + its line ending: 6 bytes more per LF-terminated line.
    let expected = 0;
    let lastSegment = 0;
    for (let i = 0; i < 100; i++) {
      const chunk = Buffer.allocUnsafe(MiB);
      randomFillSync(chunk);
      let lf = chunk.indexOf(0x0a);
      let from = 0;
      while (lf >= 0) {
        expected += lastSegment + (lf - from) + 1 + 6;
        lastSegment = 0;
        from = lf + 1;
        lf = chunk.indexOf(0x0a, from);
      }
      lastSegment += chunk.length - from;
      await pump(attacker.socket, chunk, 1);
    }
    if (lastSegment > 0) expected += lastSegment + 1 + 6; // the unterminated last line, answered at FIN
    attacker.socket.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 60_000))]);
    expect(received).toBe(expected);
    expect(tail.toString("latin1")).not.toMatch(/ERROR/);
    await verdict(
      "100 MiB random binary",
      cli,
      control,
      BOUND_MIB,
      `${(received / MiB).toFixed(1)} MiB echoed`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it("--framing length: a 4 GiB length prefix is refused from the header alone", async () => {
    const cli = await startTarget(["--framing", "length"]);
    const control = await ControlClient.start(cli.port, { framing: "length" });
    const attackers = await Promise.all(Array.from({ length: 100 }, () => connectFrom(cli.port)));
    const reply = encodeFrame("ERROR: frame of 4294967295 bytes exceeds 65536 bytes");
    for (const a of attackers)
      a.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.alloc(1000, 1)]));
    for (const a of attackers) {
      await a.closedPromise;
      expect(a.received.equals(reply)).toBe(true);
    }
    await verdict("4 GiB length prefix (x100 connections)", cli, control, 100);
    expect(await cli.stop()).toBe(0);
  });
});
