// Attack-suite harness: the real `echoplex` CLI as the target, a well-behaved control
// client that keeps talking to it during the attack, and the server's memory from /proc.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { expect } from "vitest";
import { encodeFrame } from "../../src/codecs/length-prefixed.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { sleep, TestClient } from "../helpers/net.js";

/** Starts `echoplex echo 127.0.0.1:0 ...args` quietly (warnings only). */
export function startTarget(args: string[] = []): Promise<RunningCli> {
  return startService("echo", args);
}

/**
 * The bounds in the tests are written for an idle server of this size (Node 20 here);
 * a runtime with a larger idle footprint (Node 24: ~100 MiB) gets the same headroom.
 */
const REFERENCE_IDLE_MIB = 56;
const idleMiB = new WeakMap<RunningCli, number>();

/** Starts `echoplex SERVICE 127.0.0.1:0 ...args` quietly (warnings only) and notes its idle RSS. */
export async function startService(service: string, args: string[] = []): Promise<RunningCli> {
  const cli = await startCli([
    service,
    "127.0.0.1:0",
    "--log-level",
    "warn",
    "--log-format",
    "json",
    ...args,
  ]);
  idleMiB.set(cli, memoryOf(cli).rssMiB);
  return cli;
}

/** A well-behaved client's side of a service's protocol: what it sends and what answers it. */
export interface Dialogue {
  request(n: number): string;
  reply(n: number): string | RegExp;
  /** Lines the service may interleave that are not answers (chat notices). */
  skip?(line: string): boolean;
  /** Runs once after connecting (a chat user joins its own room). */
  setup?(client: TestClient): Promise<void>;
}

/** The echo dialogue: `control n` → `ECHO: control n`. */
export const ECHO_DIALOGUE: Dialogue = {
  request: (n) => `control ${n}`,
  reply: (n) => `ECHO: control ${n}`,
};

/** What verdict() needs from a control client of any protocol. */
export interface Control {
  sent: number;
  answered: number;
  maxLatencyMs: number;
  stop(): Promise<boolean>;
}

export interface Memory {
  /** Peak resident set size since the process started (VmHWM), MiB. */
  peakMiB: number;
  /** Resident set size now (VmRSS), MiB. */
  rssMiB: number;
}

/** The server's memory from /proc/<pid>/status. */
export function memoryOf(cli: RunningCli): Memory {
  const status = readFileSync(`/proc/${cli.proc.pid}/status`, "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { peakMiB: kib("VmHWM") / 1024, rssMiB: kib("VmRSS") / 1024 };
}

/** Opens a connection from `localAddress` (127.0.0.0/8 is all local on Linux: distinct client IPs). */
export async function connectFrom(
  port: number,
  localAddress = "127.0.0.1",
  options: { allowHalfOpen?: boolean } = {},
): Promise<TestClient> {
  const socket = connect({ port, host: "127.0.0.1", localAddress, noDelay: true, ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return new TestClient(socket);
}

/**
 * A well-behaved client: one line every `everyMs`, each answer checked, for as long as
 * the attack runs. Served means every request was answered correctly within `deadlineMs`.
 */
export class ControlClient implements Control {
  sent = 0;
  answered = 0;
  wrong = 0;
  maxLatencyMs = 0;
  private running = true;
  private readonly loop: Promise<void>;

  /** Bytes of `client.received` already consumed as frames (length framing). */
  private consumed = 0;

  private constructor(
    private readonly client: TestClient,
    everyMs: number,
    private readonly deadlineMs: number,
    private readonly framing: "lines" | "length",
    private readonly dialogue: Dialogue,
  ) {
    this.loop = this.run(everyMs);
  }

  static async start(
    port: number,
    options: {
      everyMs?: number;
      deadlineMs?: number;
      framing?: "lines" | "length";
      dialogue?: Dialogue;
    } = {},
  ): Promise<ControlClient> {
    const client = await connectFrom(port);
    const dialogue = options.dialogue ?? ECHO_DIALOGUE;
    await dialogue.setup?.(client);
    return new ControlClient(
      client,
      options.everyMs ?? 100,
      options.deadlineMs ?? 10_000,
      options.framing ?? "lines",
      dialogue,
    );
  }

  private async request(text: string): Promise<string> {
    if (this.framing === "lines") {
      this.client.send(text);
      const skip = this.dialogue.skip;
      for (;;) {
        const line = await this.client.readLine(this.deadlineMs);
        if (skip === undefined || !skip(line)) return line;
      }
    }
    this.client.write(encodeFrame(text));
    const complete = (d: Buffer) =>
      d.length - this.consumed >= 4 && d.length - this.consumed >= 4 + d.readUInt32BE(this.consumed);
    await this.client.waitFor(complete, this.deadlineMs, "a frame");
    const data = this.client.received;
    const length = data.readUInt32BE(this.consumed);
    const frame = data.toString("latin1", this.consumed + 4, this.consumed + 4 + length);
    this.consumed += 4 + length;
    return frame;
  }

  private async run(everyMs: number): Promise<void> {
    while (this.running) {
      const n = this.sent++;
      const started = Date.now();
      try {
        const line = await this.request(this.dialogue.request(n));
        const want = this.dialogue.reply(n);
        if (typeof want === "string" ? line === want : want.test(line)) this.answered++;
        else this.wrong++;
      } catch {
        this.wrong++;
        return;
      }
      this.maxLatencyMs = Math.max(this.maxLatencyMs, Date.now() - started);
      await sleep(everyMs);
    }
  }

  /** Stops after the request in flight; true if every request was answered correctly. */
  async stop(): Promise<boolean> {
    this.running = false;
    await this.loop;
    this.client.destroy();
    return this.served;
  }

  get served(): boolean {
    return this.sent > 0 && this.wrong === 0 && this.answered === this.sent;
  }
}

/**
 * Prints the case's verdict (peak memory, control client) and asserts the control client
 * was served and the server stayed under `maxPeakMiB`.
 */
export async function verdict(
  name: string,
  cli: RunningCli,
  control: Control,
  maxPeakMiB: number,
  extra = "",
): Promise<Memory> {
  // A quick attack still proves something only if the control client talked during it.
  await until(() => control.sent >= 5, 5000);
  const served = await control.stop();
  const mem = memoryOf(cli);
  // What matters is growth under attack: shift the bound by how much larger this
  // runtime's idle server is than the reference one.
  maxPeakMiB += Math.max(0, (idleMiB.get(cli) ?? REFERENCE_IDLE_MIB) - REFERENCE_IDLE_MIB);
  console.log(
    `[attack] ${name}: server peak RSS ${mem.peakMiB.toFixed(1)} MiB (bound ${maxPeakMiB.toFixed(0)} MiB), ` +
      `RSS now ${mem.rssMiB.toFixed(1)} MiB; control client ${served ? "served" : "NOT served"} ` +
      `(${control.answered}/${control.sent} answered, max latency ${control.maxLatencyMs} ms)${extra ? `; ${extra}` : ""}`,
  );
  expect(served, `${name}: control client served`).toBe(true);
  expect(mem.peakMiB, `${name}: server peak RSS`).toBeLessThan(maxPeakMiB);
  expect(cli.proc.exitCode, `${name}: server still running`).toBe(null);
  return mem;
}

/** Writes `chunk` `times` times, respecting backpressure; stops early when the socket goes away. */
export async function pump(socket: Socket, chunk: Buffer, times: number): Promise<number> {
  let written = 0;
  for (let i = 0; i < times; i++) {
    if (socket.destroyed || !socket.writable) break;
    const more = socket.write(chunk);
    written += chunk.length;
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    }
  }
  return written;
}

export const MiB = 1024 * 1024;

/** Polls `condition` until it holds or `timeoutMs` passes (generous: the machine is shared). */
export async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}
