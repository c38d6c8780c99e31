// The sink service end to end: the real CLI as a child process, peers over real
// sockets, the output file read back (with jq where a user would use it).
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { connectClient, sleep, type TestClient } from "../../helpers/net.js";

interface SinkRecord {
  ts: string;
  peer: string;
  conn: number;
  bytes: number;
  text?: string;
  base64?: string;
}

let dir: string;
let cli: RunningCli | undefined;
const clients: TestClient[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "echoplex-sink-"));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function sink(...args: string[]): Promise<number> {
  cli = await startCli(["sink", "127.0.0.1:0", "--log-format", "json", ...args]);
  return cli.port;
}

async function client(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

function records(file: string): SinkRecord[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as SinkRecord);
}

/** Writes and resolves once the bytes are handed to the kernel. */
function written(c: TestClient, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => c.socket.write(data, (err) => (err ? reject(err) : resolve())));
}

describe("sink: recording", () => {
  it("100 peers x 1,000 lines, then SIGTERM: the file holds exactly the 100,000 records", async () => {
    const out = join(dir, "log.jsonl");
    const port = await sink("--out", out);
    const peers = await Promise.all(Array.from({ length: 100 }, () => client(port)));
    // Wait until the server has accepted all of them (a connection still in the kernel's
    // accept queue at shutdown is not the server's yet).
    const deadline = Date.now() + 20_000;
    while (cli!.stderr().split('"msg":"connect"').length - 1 < 100 && Date.now() < deadline) await sleep(20);
    await Promise.all(
      peers.map((c, p) => {
        let data = "";
        for (let i = 0; i < 1000; i++) data += `peer ${p} line ${i}\n`;
        return written(c, data);
      }),
    );
    // No waiting for the sink to catch up: the signal comes as soon as the bytes are sent.
    expect(await cli!.stop("SIGTERM")).toBe(0);

    const all = records(out);
    expect(all).toHaveLength(100_000);
    // Each peer's lines, once each, in order, under one connection id and peer address.
    const byConn = new Map<number, SinkRecord[]>();
    for (const r of all) byConn.set(r.conn, [...(byConn.get(r.conn) ?? []), r]);
    expect(byConn.size).toBe(100);
    for (const recs of byConn.values()) {
      const p = /^peer (\d+) line 0$/.exec(recs[0]!.text!)![1];
      expect(recs.map((r) => r.text)).toEqual(Array.from({ length: 1000 }, (_, i) => `peer ${p} line ${i}`));
      expect(new Set(recs.map((r) => r.peer)).size).toBe(1);
      expect(recs[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(recs[0]!.bytes).toBe(`peer ${p} line 0`.length);
    }
    // jq reads it as a user would.
    expect(execFileSync("jq", ["-s", "length", out], { encoding: "utf8" }).trim()).toBe("100000");
  }, 120_000);

  it("records binary input as base64, byte for byte, and text as text", async () => {
    const out = join(dir, "log.jsonl");
    const port = await sink("--out", out);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x0a));
    const c = await client(port);
    await written(
      c,
      Buffer.concat([binary, Buffer.from('\nquote " and \\ backslash, ünïcode ✓\n\x1b[31mred\n')]),
    );
    c.end();
    await c.readToEnd();
    expect(await cli!.stop("SIGTERM")).toBe(0);
    const [bin, text, coloured] = records(out);
    expect(bin!.text).toBeUndefined();
    expect(Buffer.from(bin!.base64!, "base64").equals(binary)).toBe(true);
    expect(bin!.bytes).toBe(255);
    expect(text!.text).toBe('quote " and \\ backslash, ünïcode ✓');
    expect(text!.bytes).toBe(Buffer.byteLength(text!.text!));
    // A control character (ESC) makes it binary: recorded exactly, not interpreted.
    expect(Buffer.from(coloured!.base64!, "base64").toString("latin1")).toBe("\x1b[31mred");
    // jq and base64 get the bytes back.
    const decoded = execFileSync("sh", [
      "-c",
      `jq -r 'select(.base64) | .base64' '${out}' | head -1 | base64 -d`,
    ]);
    expect(decoded.equals(binary)).toBe(true);
  });

  it("records length-prefixed frames, newlines and all", async () => {
    const out = join(dir, "log.jsonl");
    const port = await sink("--out", out, "--framing", "length", "--ack");
    const c = await client(port);
    const frame = (s: string) => {
      const body = Buffer.from(s);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      return Buffer.concat([head, body]);
    };
    c.write(Buffer.concat([frame("two\nlines"), frame("")]));
    await c.waitFor((d) => d.includes("OK 2"), 10_000, "OK 2");
    expect(records(out).map((r) => [r.bytes, r.text])).toEqual([
      [9, undefined],
      [0, ""],
    ]);
    expect(Buffer.from(records(out)[0]!.base64!, "base64").toString()).toBe("two\nlines");
  });
});

describe("sink: acknowledgements and durability", () => {
  for (const fsync of [false, true]) {
    it(`--ack${fsync ? " --fsync" : ""} answers OK <n> only once the record is in the file`, async () => {
      const out = join(dir, "log.jsonl");
      const port = await sink("--out", out, "--ack", ...(fsync ? ["--fsync"] : []));
      const c = await client(port);
      for (let i = 1; i <= 50; i++) {
        c.send(`message ${i}`);
        if (i % 10 === 0) {
          await c.waitFor((d) => d.toString().endsWith(`OK ${i}\n`), 10_000, `OK ${i}`);
          // By the time OK n arrives, records 1..n are in the file.
          expect(records(out).map((r) => r.text)).toEqual(
            Array.from({ length: i }, (_, k) => `message ${k + 1}`),
          );
        }
      }
      expect(c.received.toString()).toBe(Array.from({ length: 50 }, (_, k) => `OK ${k + 1}\n`).join(""));
    });
  }

  for (const out of [true, false]) {
    it(`--ack${out ? " --out" : ""} keeps numbering messages the rate limit drops, answering each in order`, async () => {
      const file = join(dir, "log.jsonl");
      const limit = ["--rate-limit", "5", "--rate-burst", "5", "--rate-grace", "30s"];
      const port = await sink("--ack", ...(out ? ["--out", file] : []), ...limit);
      const c = await client(port);
      await written(c, Array.from({ length: 12 }, (_, k) => `m${k + 1}\n`).join(""));
      await c.waitFor((d) => /(OK|message) 12\b/.test(d.toString()), 10_000, "the answer to message 12");
      const lines = c.received.toString().trimEnd().split("\n");
      expect(lines).toContain("ERROR: rate limit exceeded (5 messages/s)");
      const answers = lines.filter((l) => !l.startsWith("ERROR: rate limit"));
      // One answer per message, in the peer's own numbering; OK exactly for what was recorded.
      const okd: string[] = [];
      answers.forEach((line, i) => {
        if (line === `OK ${i + 1}`) okd.push(`m${i + 1}`);
        else expect(line).toBe(`ERROR: message ${i + 1} not recorded: rate limit exceeded`);
      });
      expect(answers).toHaveLength(12);
      expect(okd.length).toBeGreaterThanOrEqual(5);
      expect(okd.length).toBeLessThan(12);
      if (out) expect(records(file).map((r) => r.text)).toEqual(okd);
    });
  }

  it("without --out, --ack answers at once and nothing is written", async () => {
    const port = await sink("--ack");
    const c = await client(port);
    c.send("a");
    c.send("b");
    expect(await c.readLines(2)).toEqual(["OK 1", "OK 2"]);
  });
});

describe("sink: observability", () => {
  it("logs each message at debug level (not at info) with peer and connection id", async () => {
    const port = await sink("--log-level", "debug");
    const c = await client(port);
    await written(c, "hello sink\n\x00\x01\n");
    c.end();
    await c.readToEnd();
    await cli!.stop("SIGTERM");
    const logs = cli!
      .stderr()
      .split("\n")
      .filter((l) => l.includes('"msg":"message"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs).toEqual([
      expect.objectContaining({
        level: 20,
        conn: 1,
        peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        bytes: 10,
        text: "hello sink",
      }),
      expect.objectContaining({ level: 20, conn: 1, bytes: 2, base64: "AAE=" }),
    ]);

    const port2 = await sink();
    const c2 = await client(port2);
    await written(c2, "quiet at info\n");
    c2.end();
    await c2.readToEnd();
    await cli!.stop("SIGTERM");
    expect(cli!.stderr()).not.toContain('"msg":"message"');
  });

  it("tracks peers and lists them in a --status-interval line", async () => {
    const port = await sink("--status-interval", "200ms");
    const a = await client(port);
    const b = await client(port);
    a.send("one");
    a.send("two");
    b.send("three");
    await sleep(100);
    const deadline = Date.now() + 10_000;
    let status:
      | { peers: number; messages: number; bytes: number; recent: Array<Record<string, unknown>> }
      | undefined;
    while (Date.now() < deadline) {
      const lines = cli!
        .stderr()
        .split("\n")
        .filter((l) => l.includes('"msg":"status"'));
      const last = lines.length > 0 ? JSON.parse(lines[lines.length - 1]!) : undefined;
      if (last?.messages === 3) {
        status = last;
        break;
      }
      await sleep(100);
    }
    expect(status).toMatchObject({ peers: 2, messages: 3, bytes: 11 });
    expect(status!.recent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          conn: 1,
          messages: 2,
          bytes: 6,
          peer: expect.stringMatching(/^127\.0\.0\.1:/),
        }),
        expect.objectContaining({ conn: 2, messages: 1, bytes: 5 }),
      ]),
    );
  });
});

describe("sink: a disk slower than the network", () => {
  it("stops reading while records wait for the disk, keeps memory bounded, and loses nothing", async () => {
    // A FIFO stands in for a stalled disk: nothing is written until the test reads it.
    const fifo = join(dir, "out.fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = createReadStream(fifo, { highWaterMark: 64 * 1024 });
    const port = await sink("--out", fifo, "--out-buffer", "1m", "--log-level", "warn");
    const rssBefore = rssKiB(cli!.proc.pid!);
    const c = await client(port);
    const line = `${"y".repeat(1000)}\n`;
    const total = 100_000; // 100 MB
    let sent = 0;
    const pump = (async () => {
      while (sent < total) {
        let chunk = "";
        for (let i = 0; i < 64 && sent < total; i++, sent++) chunk += line;
        if (!c.socket.write(chunk)) await new Promise((r) => c.socket.once("drain", r));
      }
      c.socket.end();
    })();
    await sleep(2000);
    const stalledAt = sent * 1001;
    const rssStalled = rssKiB(cli!.proc.pid!);
    console.log(
      `sink stalled disk: ${(stalledAt / 1e6).toFixed(1)} MB accepted, RSS ${rssBefore} -> ${rssStalled} KiB`,
    );
    // The sink stopped reading: the peer could hand over only what the buffers hold.
    expect(stalledAt).toBeLessThan(40e6);
    expect(rssStalled - rssBefore).toBeLessThan(64 * 1024);

    // The disk catches up: every line arrives.
    let lines = 0;
    reader.on("data", (d: Buffer | string) => {
      const buf = typeof d === "string" ? Buffer.from(d) : d;
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
    });
    await pump;
    const deadline = Date.now() + 60_000;
    while (lines < total && Date.now() < deadline) await sleep(100);
    expect(lines).toBe(total);
    expect(await cli!.stop("SIGTERM")).toBe(0);
  }, 120_000);
});

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]);
}
