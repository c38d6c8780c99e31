// The attack suite's view of every service: each one's control dialogue, an HTTP
// control client, and the cases that every line service must survive.
import { randomFillSync } from "node:crypto";
import { request } from "node:http";
import { expect } from "vitest";
import type { RunningCli } from "../helpers/cli.js";
import { sleep, type TestClient } from "../helpers/net.js";
import {
  type Control,
  ControlClient,
  connectFrom,
  type Dialogue,
  MiB,
  memoryOf,
  pump,
  verdict,
} from "./harness.js";

export const CMD_DIALOGUE: Dialogue = {
  request: (n) => `ECHO control ${n}`,
  reply: (n) => `ECHO: control ${n}`,
};

/** The sink with --ack: each line is answered `OK n`, n counting from 1 per connection. */
export const SINK_DIALOGUE: Dialogue = {
  request: (n) => `control ${n}`,
  reply: (n) => `OK ${n + 1}`,
};

/** The chat with --echo-self: the control user talks alone in #control and hears itself. */
export const CHAT_DIALOGUE: Dialogue = {
  request: (n) => `control ${n}`,
  reply: (n) => new RegExp(`^<[^>]+> control ${n}$`),
  skip: (line) => line.startsWith("* "),
  async setup(client: TestClient) {
    client.send("/join #control");
    await client.waitFor((d) => d.includes("#control"), 10_000, "the join");
  },
};

/** A well-behaved HTTP client: one GET every `everyMs` on its own keep-alive-free connection. */
export class HttpControl implements Control {
  sent = 0;
  answered = 0;
  maxLatencyMs = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly port: number,
    everyMs = 100,
    private readonly deadlineMs = 10_000,
  ) {
    this.loop = this.run(everyMs);
  }

  private get(): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: this.port, path: "/?delay=0", agent: false, timeout: this.deadlineMs },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            body += d;
          });
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end();
    });
  }

  private async run(everyMs: number): Promise<void> {
    while (this.running) {
      this.sent++;
      const started = Date.now();
      try {
        if ((await this.get()) === "200 Hello World!") this.answered++;
        else return;
      } catch {
        return;
      }
      this.maxLatencyMs = Math.max(this.maxLatencyMs, Date.now() - started);
      await sleep(everyMs);
    }
  }

  async stop(): Promise<boolean> {
    this.running = false;
    await this.loop;
    return this.sent > 0 && this.answered === this.sent;
  }
}

export interface LineTarget {
  name: string;
  start(): Promise<RunningCli>;
  dialogue: Dialogue;
}

/** 100 MiB without a line ending: the line-limit error, a close, nothing buffered. */
export async function hugeLine(target: LineTarget, boundMiB: number): Promise<void> {
  const cli = await target.start();
  const control = await ControlClient.start(cli.port, { dialogue: target.dialogue });
  const attacker = await connectFrom(cli.port, "127.0.0.1", { allowHalfOpen: true });
  const written = await pump(attacker.socket, Buffer.alloc(MiB, 0x61), 100);
  attacker.socket.end();
  expect(await attacker.readToEnd(20_000)).toMatch(/line exceeds 65536 bytes\r?\n$/);
  await verdict(
    `${target.name}: 100 MiB line`,
    cli,
    control,
    boundMiB,
    `attacker wrote ${(written / MiB).toFixed(0)} MiB before the close`,
  );
  expect(await cli.stop()).toBe(0);
}

/**
 * 100 MiB of random bytes (lines of ~256 bytes on average, anything in them), read by
 * the attacker as fast as the server answers. Returns what the attacker received.
 */
export async function randomBinary(target: LineTarget, boundMiB: number): Promise<Buffer[]> {
  const cli = await target.start();
  const control = await ControlClient.start(cli.port, { dialogue: target.dialogue });
  const attacker = await connectFrom(cli.port);
  attacker.socket.removeAllListeners("data");
  const got: Buffer[] = [];
  let receivedBytes = 0;
  attacker.socket.on("data", (d: Buffer) => {
    receivedBytes += d.length;
    if (got.length < 4096) got.push(d);
  });
  const closed = new Promise<void>((resolve) => attacker.socket.once("close", () => resolve()));
  const chunk = Buffer.allocUnsafe(MiB);
  let written = 0;
  for (let i = 0; i < 100 && !attacker.socket.destroyed; i++) {
    randomFillSync(chunk);
    written += await pump(attacker.socket, Buffer.from(chunk), 1);
  }
  attacker.socket.end();
  await Promise.race([closed, sleep(30_000)]);
  expect(attacker.socket.destroyed || attacker.closed).toBe(true);
  await verdict(
    `${target.name}: 100 MiB random binary`,
    cli,
    control,
    boundMiB,
    `attacker wrote ${(written / MiB).toFixed(0)} MiB, got ${(receivedBytes / MiB).toFixed(1)} MiB back`,
  );
  expect(await cli.stop()).toBe(0);
  return got;
}

/**
 * A reader that never reads while it keeps sending requests: the server must stop
 * reading from it (or drop it) rather than buffer its replies; memory stays bounded.
 */
export async function slowReader(
  target: LineTarget,
  boundMiB: number,
  request: (i: number) => string,
  requests: number,
): Promise<void> {
  const cli = await target.start();
  const control = await ControlClient.start(cli.port, { dialogue: target.dialogue });
  const attacker = await connectFrom(cli.port);
  attacker.socket.pause(); // never reads: its receive window fills, then the server's buffer
  attacker.socket.removeAllListeners("data");
  let written = 0;
  const text = Buffer.from(Array.from({ length: requests }, (_, i) => `${request(i)}\n`).join(""), "utf8");
  // Writes until TCP stops taking more (the server stopped reading), or 3 s pass.
  const deadline = Date.now() + 3000;
  for (let at = 0; at < text.length && Date.now() < deadline && !attacker.socket.destroyed; ) {
    const part = text.subarray(at, at + 64 * 1024);
    at += part.length;
    written += part.length;
    if (!attacker.socket.write(part)) {
      await Promise.race([new Promise((r) => attacker.socket.once("drain", r)), sleep(500)]);
    }
  }
  await sleep(1000);
  const during = memoryOf(cli);
  await verdict(
    `${target.name}: slow reader`,
    cli,
    control,
    boundMiB,
    `attacker queued ${(written / MiB).toFixed(1)} MiB of requests and read nothing; ` +
      `RSS with it connected ${during.rssMiB.toFixed(1)} MiB; attacker ${attacker.socket.destroyed ? "disconnected" : "held (reading paused)"}`,
  );
  attacker.destroy();
  expect(await cli.stop()).toBe(0);
}
