// The attack cases against `echoplex http`: a slowloris on the headers, a 100 MiB header
// line, 100 MiB of random binary, a 100 MiB body, a reader that never reads its
// pipelined responses (--max-pipeline), and a request flood; an HTTP control client is served throughout.
import { randomFillSync } from "node:crypto";
import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { sleep } from "../helpers/net.js";
import { connectFrom, MiB, memoryOf, pump, startService, verdict } from "./harness.js";
import { HttpControl } from "./services.js";

const BOUND_MIB = 150;
/** Growth of the server's peak RSS over its idle RSS allowed for a never-reading pipeliner. */
const PIPELINE_GROWTH_MIB = 40;
const startHttp = (args: string[] = []) => startService("http", ["--delay", "0", ...args]);

describe("attack: http", () => {
  it("a slowloris on the headers (a byte every 200 ms) gets 408 at --headers-timeout", async () => {
    const cli = await startHttp(["--headers-timeout", "2s"]);
    const control = new HttpControl(cli.port);
    const lorises = await Promise.all(Array.from({ length: 200 }, () => connectFrom(cli.port)));
    for (const c of lorises) c.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const started = Date.now();
    while (lorises.some((c) => !c.closed) && Date.now() - started < 15_000) {
      for (const c of lorises) if (!c.closed) c.write("a");
      await sleep(200);
    }
    const took = Date.now() - started;
    expect(lorises.every((c) => c.closed)).toBe(true);
    expect(lorises.every((c) => c.received.toString().startsWith("HTTP/1.1 408"))).toBe(true);
    await verdict(
      "http: 200 slowloris peers",
      cli,
      control,
      BOUND_MIB,
      `all got 408 and a close after ${took} ms`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it("a 100 MiB header line is cut off (431)", async () => {
    const cli = await startHttp();
    const control = new HttpControl(cli.port);
    const attacker = await connectFrom(cli.port);
    attacker.write("GET / HTTP/1.1\r\nHost: x\r\nX-Huge: ");
    const written = await pump(attacker.socket, Buffer.alloc(MiB, 0x61), 100);
    await attacker.closedPromise;
    const saw431 = attacker.received.toString().startsWith("HTTP/1.1 431");
    expect(written).toBeLessThan(100 * MiB);
    await verdict(
      "http: 100 MiB header",
      cli,
      control,
      BOUND_MIB,
      `attacker cut off after ${(written / MiB).toFixed(0)} MiB; 431 ${saw431 ? "read" : "lost to the reset"}`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it("100 MiB of random binary is cut off (400)", async () => {
    const cli = await startHttp();
    const control = new HttpControl(cli.port);
    const attacker = await connectFrom(cli.port);
    const chunk = Buffer.allocUnsafe(MiB);
    let written = 0;
    for (let i = 0; i < 100 && !attacker.socket.destroyed; i++) {
      randomFillSync(chunk);
      written += await pump(attacker.socket, Buffer.from(chunk), 1);
    }
    await attacker.closedPromise;
    // As with the 413 below, the reset that follows the server's close may destroy the 400.
    const saw400 = attacker.received.toString().startsWith("HTTP/1.1 400");
    expect(written).toBeLessThan(100 * MiB);
    await verdict(
      "http: 100 MiB random binary",
      cli,
      control,
      BOUND_MIB,
      `attacker cut off after ${(written / MiB).toFixed(0)} MiB; 400 ${saw400 ? "read" : "lost to the reset"}`,
    );
    expect(await cli.stop()).toBe(0);
  });

  it("a 100 MiB body is cut off after --max-body (413)", async () => {
    const cli = await startHttp();
    const control = new HttpControl(cli.port);
    const attacker = await connectFrom(cli.port);
    attacker.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * MiB}\r\n\r\n`);
    const written = await pump(attacker.socket, Buffer.alloc(MiB, 0x62), 100);
    await attacker.closedPromise;
    // The server answers 413 after --max-body and closes. A client that keeps sending
    // makes that close a reset, which can destroy the 413 before it is read (the http
    // service has no lingering close yet): the test holds it to cutting the peer off early.
    const saw413 = attacker.received.toString().startsWith("HTTP/1.1 413");
    expect(written).toBeLessThan(100 * MiB);
    await verdict(
      "http: 100 MiB body",
      cli,
      control,
      BOUND_MIB,
      `attacker cut off after ${(written / MiB).toFixed(0)} MiB; 413 ${saw413 ? "read" : "lost to the reset"}`,
    );
    expect(await cli.stop()).toBe(0);
  });

  // --max-pipeline (32) stops reading from a connection with that many requests
  // unanswered; node:http parses every request of the read in hand, so the attacker costs
  // at most one read's worth of parsed requests (64 KiB: ~2000 of these) at a time.
  // Before the limit: ~75 MiB above idle at --delay 0 (measured 158 MiB peak), and with a
  // delay every request sent during it was parsed and held.
  for (const delay of ["0", "4s"]) {
    it(`a reader that never reads 20,000 pipelined /echo responses (--delay ${delay}): memory bounded`, async () => {
      const cli = await startService("http", ["--delay", delay, "--drain-timeout", "2s"]);
      const idle = memoryOf(cli).rssMiB;
      const control = new HttpControl(cli.port);
      const attacker = await connectFrom(cli.port);
      attacker.socket.pause();
      attacker.socket.removeAllListeners("data");
      const requests = Buffer.from("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000));
      let written = 0;
      const deadline = Date.now() + 3000;
      for (let at = 0; at < requests.length && Date.now() < deadline; ) {
        const part = requests.subarray(at, at + 64 * 1024);
        at += part.length;
        written += part.length;
        if (!attacker.socket.write(part)) {
          await Promise.race([new Promise((r) => attacker.socket.once("drain", r)), sleep(500)]);
        }
      }
      await sleep(1000);
      const mem = await verdict(
        `http: slow reader (pipelined /echo, --delay ${delay})`,
        cli,
        control,
        BOUND_MIB,
        `attacker queued ${(written / MiB).toFixed(1)} MiB of requests, read nothing; idle RSS ${idle.toFixed(1)} MiB`,
      );
      console.log(
        `[attack] http pipelined --delay ${delay}: peak ${(mem.peakMiB - idle).toFixed(1)} MiB above idle`,
      );
      // 20,000 parsed requests with their answers would cost tens of MiB (75 MiB measured).
      expect(mem.peakMiB - idle).toBeLessThan(PIPELINE_GROWTH_MIB);
      attacker.destroy();
      expect(await cli.stop()).toBe(0);
    }, 60_000);
  }

  it("a request flood from 20 keep-alive connections for 3 s", async () => {
    const cli = await startHttp();
    const control = new HttpControl(cli.port);
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    let done = 0;
    const until = Date.now() + 3000;
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const req = request({ host: "127.0.0.1", port: cli.port, path: "/", agent }, (res) => {
          res.resume();
          res.on("end", () => {
            done++;
            resolve();
          });
        });
        req.on("error", () => resolve());
        req.end();
      });
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (Date.now() < until) await one();
      }),
    );
    agent.destroy();
    await verdict("http: request flood", cli, control, BOUND_MIB, `${done} flood requests answered in 3 s`);
    expect(done).toBeGreaterThan(100);
    expect(await cli.stop()).toBe(0);
  });
});
