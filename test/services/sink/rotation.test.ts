// Rotation of the sink's --out file (--rotate SIZE|DURATION, --keep N): records written
// across many rotations are all there, once each, in order, none split; acknowledged
// means in a file; old files past --keep are removed. Peers over real sockets; the CLI
// as a child process for the flags, with logger(1) as the sender.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readServiceMetric } from "../../../src/core/stats.js";
import { createSinkServer, type SinkServer } from "../../../src/services/sink/index.js";
import { parseRotate } from "../../../src/services/sink/rotation.js";
import { type RunningCli, runCli, startCli } from "../../helpers/cli.js";
import { connectClient, type TestClient } from "../../helpers/net.js";

let dir: string;
let sink: SinkServer | undefined;
let cli: RunningCli | undefined;
const clients: TestClient[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "echoplex-rotate-"));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await sink?.shutdown({ drainTimeoutMs: 1000 });
  sink = undefined;
  await cli?.stop("SIGKILL");
  cli = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** FILE.N … FILE.1 then FILE: oldest first. */
function filesOf(out: string): string[] {
  const base = out.split("/").pop()!;
  const numbered = readdirSync(dir)
    .filter((n) => n.startsWith(`${base}.`))
    .map((n) => Number(n.slice(base.length + 1)))
    .sort((a, b) => b - a);
  return [...numbered.map((n) => `${out}.${n}`), ...(existsSync(out) ? [out] : [])];
}

/** Every line of `file` as JSON: a split record would fail to parse here. */
function linesOf(file: string): Array<{ conn: number; text?: string; message?: string }> {
  const text = readFileSync(file, "utf8");
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("sink --rotate SIZE", () => {
  it("8 peers x 500 acknowledged lines across dozens of rotations: every record once, in order, none split", async () => {
    const out = join(dir, "log.jsonl");
    const maxBytes = 8 * 1024;
    sink = createSinkServer({ out, ack: true, rotate: { maxBytes, keep: 1000 } });
    const { port } = await sink.listen("127.0.0.1:0");
    const peers = await Promise.all(Array.from({ length: 8 }, () => connectClient(port)));
    clients.push(...peers);
    const N = 500;
    for (const [p, c] of peers.entries()) {
      let data = "";
      for (let i = 0; i < N; i++) data += `peer ${p} line ${i} ${"x".repeat(i % 50)}\n`;
      c.socket.write(data);
    }
    // Acknowledged means in a file: wait for every OK, then read the files while the sink still runs.
    await Promise.all(
      peers.map((c) => c.waitFor((d) => d.toString().endsWith(`OK ${N}\n`), 30_000, "the last OK")),
    );

    const files = filesOf(out);
    expect(files.length).toBeGreaterThan(10);
    const byConn = new Map<number, string[]>();
    for (const f of files) {
      const lines = linesOf(f);
      // Never past the limit, except a file of one record larger than it (none here).
      expect(statSync(f).size).toBeLessThanOrEqual(maxBytes);
      for (const r of lines) byConn.set(r.conn, [...(byConn.get(r.conn) ?? []), r.text!]);
    }
    expect(byConn.size).toBe(8);
    for (const texts of byConn.values()) {
      const p = /^peer (\d+) /.exec(texts[0]!)![1];
      expect(texts).toEqual(Array.from({ length: N }, (_, i) => `peer ${p} line ${i} ${"x".repeat(i % 50)}`));
    }
    const rotations = sink.metrics.find((m) => m.name === "sink_rotations_total")!;
    expect(readServiceMetric(rotations)?.[0]?.value).toBe(files.length - 1);
  });

  it("--keep N: only FILE.1 … FILE.N stay, and they hold the newest records", async () => {
    const out = join(dir, "log.jsonl");
    // Left by an earlier run that kept more: removed at the first rotation.
    writeFileSync(`${out}.7`, "old\n");
    sink = createSinkServer({ out, ack: true, rotate: { maxBytes: 1024, keep: 3 } });
    const { port } = await sink.listen("127.0.0.1:0");
    const c = await connectClient(port);
    clients.push(c);
    let data = "";
    for (let i = 0; i < 300; i++) data += `line ${i}\n`;
    c.socket.write(data);
    await c.waitFor((d) => d.toString().endsWith("OK 300\n"), 30_000, "the last OK");
    expect(filesOf(out)).toEqual([`${out}.3`, `${out}.2`, `${out}.1`, out]);
    const kept = filesOf(out).flatMap((f) => linesOf(f).map((r) => r.text));
    // The newest records, contiguous up to the last one.
    const first = Number(kept[0]!.slice(5));
    expect(kept).toEqual(Array.from({ length: 300 - first }, (_, i) => `line ${first + i}`));
  });
});

describe("sink --rotate DURATION", () => {
  it("rotates at the first write once the file is older than the interval, never an empty file", async () => {
    const out = join(dir, "log.jsonl");
    sink = createSinkServer({ out, ack: true, rotate: { everyMs: 1000 } });
    const { port } = await sink.listen("127.0.0.1:0");
    const c = await connectClient(port);
    clients.push(c);
    const opened = Date.now();
    c.socket.write("first\n");
    await c.waitFor((d) => d.toString().endsWith("OK 1\n"), 10_000, "OK 1");
    await until(() => Date.now() - opened > 1100, "the interval to pass");
    expect(filesOf(out)).toEqual([out]); // nothing written: nothing rotated
    c.socket.write("second\n");
    await c.waitFor((d) => d.toString().endsWith("OK 2\n"), 10_000, "OK 2");
    expect(filesOf(out)).toEqual([`${out}.1`, out]);
    expect(linesOf(`${out}.1`).map((r) => r.text)).toEqual(["first"]);
    expect(linesOf(out).map((r) => r.text)).toEqual(["second"]);
  });
});

describe("--rotate and --keep on the command line", () => {
  it("parses sizes and durations; refuses what is neither", () => {
    expect(parseRotate("100m")).toEqual({ maxBytes: 100 * 1024 * 1024 });
    expect(parseRotate("1h")).toEqual({ everyMs: 3_600_000 });
    expect(parseRotate("15min")).toEqual({ everyMs: 900_000 });
    expect(() => parseRotate("100")).toThrow(/use a size \(100m, 1g\) or a duration/);
  });

  it("echoplex sink --format syslog --rotate 2k --keep 2, fed by logger -T: rotated files of whole records", async () => {
    const out = join(dir, "syslog.jsonl");
    cli = await startCli([
      "sink",
      "127.0.0.1:0",
      "--format",
      "syslog",
      "--out",
      out,
      "--rotate",
      "2k",
      "--keep",
      "2",
    ]);
    const lines = Array.from({ length: 40 }, (_, i) => `event ${i}`).join("\n");
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        "logger",
        ["-n", "127.0.0.1", "-P", String(cli!.port), "-T", "--octet-count", "--rfc5424", "-t", "rot"],
        { timeout: 15_000 },
        (err) => (err ? reject(err) : resolve()),
      );
      // A child that exits before reading all its input must not fail the run (EPIPE).
      child.stdin?.on("error", () => {});
      child.stdin?.end(`${lines}\n`);
    });
    expect(await cli.stop("SIGTERM")).toBe(0);
    cli = undefined;
    const files = filesOf(out);
    expect(files).toEqual([`${out}.2`, `${out}.1`, out]);
    const kept = files.flatMap((f) => linesOf(f).map((r) => r.message));
    const first = Number(kept[0]!.slice(6));
    expect(first).toBeGreaterThan(0);
    expect(kept).toEqual(Array.from({ length: 40 - first }, (_, i) => `event ${first + i}`));
  });

  it("a bad --rotate is a usage error naming the flag; --rotate without --out is refused", async () => {
    const bad = await runCli(["sink", "127.0.0.1:0", "--out", join(dir, "x"), "--rotate", "100"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'bad --rotate "100": use a size (100m, 1g) or a duration (30s, 15min, 1h, 1d)',
    );
    const noOut = await runCli(["sink", "127.0.0.1:0", "--rotate", "1h"]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--rotate needs --out");
  });
});
