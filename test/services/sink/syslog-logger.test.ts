// The sink as a syslog receiver, fed by util-linux logger(1) — the client a user has —
// over UDP and TCP (octet counting and LF), RFC 5424 and RFC 3164; then what a sender
// that is not syslog, or is over a limit, gets: its message and the log line.
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readServiceMetric } from "../../../src/core/stats.js";
import { createSinkServer, type SinkServer } from "../../../src/services/sink/index.js";
import { jsonLogs, type RunningCli, startCli } from "../../helpers/cli.js";
import { connectClient } from "../../helpers/net.js";

type Rec = Record<string, unknown> & { structuredData?: Record<string, Record<string, string>> };

let dir: string;
let sink: SinkServer | undefined;
let cli: RunningCli | undefined;
let logs: Array<Record<string, unknown>>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "echoplex-syslog-"));
  logs = [];
});
afterEach(async () => {
  await sink?.shutdown({ drainTimeoutMs: 1000 });
  sink = undefined;
  await cli?.stop("SIGKILL");
  cli = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A syslog sink on UDP and TCP (the same port number need not be free for both: each gets its own). */
async function start(
  options: { maxLineBytes?: number } = {},
): Promise<{ udp: number; tcp: number; out: string }> {
  const out = join(dir, "syslog.jsonl");
  const logger = pino({ level: "info", base: undefined }, { write: (s: string) => logs.push(JSON.parse(s)) });
  sink = createSinkServer({ format: "syslog", out, logger, ...options });
  const udp = (await sink.listen("udp://127.0.0.1:0")).port;
  const tcp = (await sink.listen("127.0.0.1:0")).port;
  return { udp, tcp, out };
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${err.message} ${stderr}`)) : resolve(stdout),
    );
    // A child that exits before reading all its input must not fail the run (EPIPE).
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

const logger = (port: number, ...args: string[]) =>
  run("logger", ["-n", "127.0.0.1", "-P", String(port), ...args]);

function records(out: string): Rec[] {
  if (!existsSync(out)) return [];
  return readFileSync(out, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Rec);
}

async function until<T>(read: () => T, done: (v: T) => boolean, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const recordsFor = (out: string, n: number) =>
  until(
    () => records(out),
    (r) => r.length >= n,
    `${n} records`,
  );

describe("echoplex sink udp://… tcp://… --format syslog, fed by logger(1)", () => {
  /** The real CLI with a UDP and a TCP door; their ports as it prints them. */
  async function cliSink(): Promise<{ udp: number; tcp: number; out: string }> {
    const out = join(dir, "syslog.jsonl");
    cli = await startCli(
      [
        "sink",
        "udp://127.0.0.1:0",
        "tcp://127.0.0.1:0",
        "--format",
        "syslog",
        "--out",
        out,
        "--log-format",
        "json",
      ],
      { count: 1 },
    );
    const doors = await until(
      () => [...cli!.stdout().matchAll(/listening on (\S+)/g)].map((m) => m[1]!),
      (d) => d.length === 2,
      "two doors",
    );
    const port = (door: string | undefined) => Number(/:(\d+)$/.exec(door ?? "")?.[1]);
    return {
      udp: port(doors.find((d) => d.startsWith("udp://"))),
      tcp: port(doors.find((d) => !d.startsWith("udp://"))),
      out,
    };
  }

  it("UDP, RFC 5424: facility, severity, host, app, procid, msgid, time, structured data, message", async () => {
    const { udp, out } = await cliSink();
    await logger(
      udp,
      "-d",
      "--rfc5424",
      "-p",
      "local3.warning",
      "-t",
      "myapp",
      "--id=42",
      "--msgid",
      "ID7",
      "--sd-id",
      "zoo@123",
      "--sd-param",
      'tiger="hungry"',
      "hello over udp",
    );
    const [r] = await recordsFor(out, 1);
    expect(r).toMatchObject({
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      facility: "local3",
      severity: "warning",
      pri: 156,
      format: "rfc5424",
      app: "myapp",
      procid: "42",
      msgid: "ID7",
      message: "hello over udp",
    });
    expect(r!.host).toEqual(expect.any(String));
    expect(Date.parse(r!.time as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(r!.structuredData?.["zoo@123"]).toEqual({ tiger: "hungry" });
    expect(r!.parseError).toBeUndefined();
  });

  it("UDP, RFC 3164", async () => {
    const { udp, out } = await cliSink();
    await logger(udp, "-d", "--rfc3164", "-t", "cron", "-p", "cron.info", "bsd over udp");
    const [r] = await recordsFor(out, 1);
    expect(r).toMatchObject({
      facility: "cron",
      severity: "info",
      format: "rfc3164",
      app: "cron",
      message: "bsd over udp",
    });
    // No year or zone on the wire: read in this machine's zone, within the minute.
    expect(Math.abs(Date.parse(r!.time as string) - Date.now())).toBeLessThan(60_000);
  });

  it("TCP with octet counting (--octet-count), RFC 5424 and RFC 3164", async () => {
    const { tcp, out } = await cliSink();
    await logger(tcp, "-T", "--octet-count", "--rfc5424", "counted 5424");
    await logger(tcp, "-T", "--octet-count", "--rfc3164", "counted 3164");
    const got = await recordsFor(out, 2);
    expect(got.map((r) => [r.format, r.message])).toEqual([
      ["rfc5424", "counted 5424"],
      ["rfc3164", "counted 3164"],
    ]);
  });

  it("TCP with LF framing: several messages on one connection, each a record; UDP and TCP into one file", async () => {
    const { tcp, udp, out } = await cliSink();
    await run(
      "logger",
      ["-n", "127.0.0.1", "-P", String(tcp), "-T", "--rfc3164", "-t", "batch"],
      "one\ntwo\nthree\n",
    );
    const got = await recordsFor(out, 3);
    expect(got.map((r) => r.message)).toEqual(["one", "two", "three"]);
    expect(new Set(got.map((r) => r.conn)).size).toBe(1);
    await logger(udp, "-d", "--rfc5424", "four");
    expect((await recordsFor(out, 4)).map((r) => r.message)).toEqual(["one", "two", "three", "four"]);
    // Everything received is in the file at a clean stop, and the file is whole.
    expect(await cli!.stop("SIGTERM")).toBe(0);
    expect(records(out)).toHaveLength(4);
  });

  it("a datagram that is not syslog is recorded raw with its parse error and logged — not dropped", async () => {
    const { udp, out } = await cliSink();
    await run("nc", ["-u", "-w", "1", "127.0.0.1", String(udp)], "just some text");
    const [r] = await recordsFor(out, 1);
    expect(r).toMatchObject({ raw: "just some text", parseError: "no <PRI> at the start", bytes: 14 });
    expect(r!.message).toBeUndefined();
    const line = await until(
      () => jsonLogs(cli!).find((l) => l.msg === "message is not syslog, recorded raw"),
      Boolean,
      "the log line",
    );
    expect(line).toMatchObject({ level: 40, parseError: "no <PRI> at the start" });
  });
});

describe("sink --format syslog: over the limits", () => {
  async function refused(port: number, send: string): Promise<string> {
    const c = await connectClient(port);
    c.socket.write(send);
    const deadline = Date.now() + 10_000;
    while (!c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return c.received.toString();
  }

  async function logged(code: string): Promise<Record<string, unknown> | undefined> {
    return until(() => logs.find((l) => l.code === code), Boolean, `${code} log line`);
  }

  it("an octet count over --max-line: ERROR in the peer's framing, a log line, a metric; messages before it recorded", async () => {
    const { tcp, out } = await start({ maxLineBytes: 100 });
    const answer = await refused(tcp, "9 <13>1 - -999999 <13>1 - - - - - x");
    expect(answer).toBe("37 ERROR: syslog frame exceeds 100 bytes");
    expect(await logged("ERR_FRAME_TOO_LARGE")).toMatchObject({
      msg: "protocol error, closing",
      err: "syslog frame exceeds 100 bytes",
    });
    expect(sink!.stats().errors.get("ERR_FRAME_TOO_LARGE")).toBe(1);
    expect((await recordsFor(out, 1)).map((r) => r.raw ?? r.message)).toEqual(["<13>1 - -"]);
  });

  it("a message that is not syslog is counted (sink_syslog_parse_errors_total) and logged once a second at most", async () => {
    const { tcp, out } = await start();
    const c = await connectClient(tcp);
    c.socket.write("<13>not a header\n<13>nor this\n");
    await recordsFor(out, 2);
    const metric = sink!.metrics.find((m) => m.name === "sink_syslog_parse_errors_total")!;
    expect(readServiceMetric(metric)?.[0]?.value).toBe(2);
    expect(logs.filter((l) => l.msg === "message is not syslog, recorded raw")).toHaveLength(1);
    c.destroy();
  });

  it("a count not followed by a space: ERR_SYSLOG_FRAME", async () => {
    const { tcp } = await start();
    const answer = await refused(tcp, "12<13>hello");
    expect(answer).toBe(
      '84 ERROR: bad syslog octet count: expected a digit or a space after the length, got "<"',
    );
    expect(await logged("ERR_SYSLOG_FRAME")).toMatchObject({ msg: "protocol error, closing" });
    expect(sink!.stats().errors.get("ERR_SYSLOG_FRAME")).toBe(1);
  });

  it("an LF-framed message over --max-line: ERR_LINE_TOO_LONG", async () => {
    const { tcp } = await start({ maxLineBytes: 100 });
    const answer = await refused(tcp, `<13>${"x".repeat(200)}\n`);
    expect(answer).toBe("ERROR: line exceeds 100 bytes\n");
    expect(await logged("ERR_LINE_TOO_LONG")).toMatchObject({ msg: "protocol error, closing" });
  });

  it("a datagram over --max-line: ERR_FRAME_TOO_LARGE, and the sender is told", async () => {
    const { udp } = await start({ maxLineBytes: 100 });
    const socket = createSocket("udp4");
    try {
      const got: string[] = [];
      socket.on("message", (m) => got.push(m.toString()));
      await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
      socket.send(`<13>${"x".repeat(200)}`, udp, "127.0.0.1");
      await until(
        () => got,
        (g) => g.length > 0,
        "an answer",
      );
      expect(got[0]).toMatch(/^ERROR: message of 204 bytes exceeds 100 bytes/);
      expect(await logged("ERR_FRAME_TOO_LARGE")).toMatchObject({ msg: "protocol error, closing" });
    } finally {
      socket.close();
    }
  });
});
