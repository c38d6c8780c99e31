// `sink --ack` when a peer breaks the framing: the messages before the bad one are
// recorded, and each gets its `OK n`, before the error and the close (docs/protocols.md §1.3).
// A client that resends what was not acknowledged must never record anything twice.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { connectClient, sleep, type TestClient } from "../../helpers/net.js";

interface SinkRecord {
  peer: string;
  conn: number;
  text?: string;
}

function records(file: string): SinkRecord[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as SinkRecord);
}

/** Runs a shell pipeline (a user's `printf … | nc …`), resolving with its stdout; bounded. */
function shell(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn("sh", ["-c", command]);
    let out = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    proc.on("error", reject);
    const timer = setTimeout(() => proc.kill(), 15_000);
    proc.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe("sink --ack: an over-limit line after good ones (the report)", () => {
  let dir: string;
  let cli: RunningCli | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "echoplex-sink-ack-"));
  });
  afterEach(async () => {
    await cli?.stop("SIGKILL");
    cli = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("printf 'one\\ntwo\\n0123456789abcdefXYZ\\n' | nc -q2: OK 1, OK 2, then the error", async () => {
    const out = join(dir, "r.jsonl");
    cli = await startCli([
      "sink",
      "127.0.0.1:0",
      "--max-line",
      "16",
      "--ack",
      "--out",
      out,
      "--log-format",
      "json",
    ]);
    const got = await shell(`printf 'one\\ntwo\\n0123456789abcdefXYZ\\n' | nc -q2 127.0.0.1 ${cli.port}`);
    expect(got).toBe("OK 1\nOK 2\nERROR: line exceeds 16 bytes\n");
    expect(records(out).map((r) => r.text)).toEqual(["one", "two"]);
    expect(cli.stderr()).toMatch(/"code":"ERR_LINE_TOO_LONG".*"msg":"protocol error, closing"/);
  });

  it("length framing: frames before an oversized header are acknowledged before the error", async () => {
    const out = join(dir, "r.jsonl");
    cli = await startCli([
      "sink",
      "127.0.0.1:0",
      "--framing",
      "length",
      "--max-line",
      "16",
      "--ack",
      "--out",
      out,
    ]);
    const c = await connectClient(cli.port);
    const frame = (body: Buffer) => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      return Buffer.concat([head, body]);
    };
    const big = Buffer.alloc(4);
    big.writeUInt32BE(1000);
    c.write(Buffer.concat([frame(Buffer.from("one")), frame(Buffer.from("two")), big]));
    const got = Buffer.from(await c.readToEnd(), "latin1");
    const answers: string[] = [];
    for (let at = 0; at + 4 <= got.length; at += 4 + got.readUInt32BE(at)) {
      answers.push(got.subarray(at + 4, at + 4 + got.readUInt32BE(at)).toString());
    }
    expect(answers).toEqual(["OK 1", "OK 2", "ERROR: frame of 1000 bytes exceeds 16 bytes"]);
    expect(records(out).map((r) => r.text)).toEqual(["one", "two"]);
  });
});

describe("sink --ack (property): every recorded line is acknowledged, in order, before the error", () => {
  const MAX = 16;
  let dir: string;
  let out: string;
  let cli: RunningCli;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "echoplex-sink-ack-fuzz-"));
    out = join(dir, "fuzz.jsonl");
    cli = await startCli(["sink", "127.0.0.1:0", "--max-line", String(MAX), "--ack", "--out", out]);
  });
  afterAll(async () => {
    await cli?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  // Lines around the limit: most fit, about one in five is over it.
  const unit = fc.constantFrom(..."abcxyz0129 -_");
  const line = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit, maxLength: MAX, size: "max" }) },
    { weight: 1, arbitrary: fc.string({ unit, minLength: MAX + 1, maxLength: MAX + 8, size: "max" }) },
  );

  it("random lines, some over the limit, sent in random pieces with random pauses", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 14 }),
        fc.array(fc.record({ at: fc.nat(), pauseMs: fc.integer({ min: 0, max: 3 }) }), { maxLength: 6 }),
        async (lines, cuts) => {
          const input = Buffer.from(lines.map((l) => `${l}\n`).join(""));
          const bad = lines.findIndex((l) => Buffer.byteLength(l) > MAX);
          const recorded = bad < 0 ? lines : lines.slice(0, bad);

          // One peer at a time: this peer's records follow those of earlier runs.
          const before = records(out).length;
          const c: TestClient = await connectClient(cli.port);
          const peer = `127.0.0.1:${c.socket.localPort}`;
          try {
            const pieces = [...cuts].sort((a, b) => (a.at % input.length) - (b.at % input.length));
            let from = 0;
            for (const { at, pauseMs } of pieces) {
              const to = at % input.length;
              if (to <= from) continue;
              c.write(input.subarray(from, to));
              from = to;
              if (pauseMs > 0) await sleep(pauseMs);
            }
            c.write(input.subarray(from));
            if (bad < 0) c.end();
            const got = await c.readToEnd();

            const answers = recorded.map((_, i) => `OK ${i + 1}\n`).join("");
            expect(got).toBe(bad < 0 ? answers : `${answers}ERROR: line exceeds ${MAX} bytes\n`);
            // Every OK'd line is in the file once, in order, and nothing else from this peer.
            const mine = records(out)
              .slice(before)
              .filter((r) => r.peer === peer);
            expect(mine.map((r) => r.text)).toEqual(recorded);
          } finally {
            c.destroy();
          }
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
