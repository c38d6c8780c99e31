// bench chat against the real CLI chat server: README's examples work as written (one
// under the default flood control, one with it off), and a run that exceeds the flood
// control ends with one line saying what to do instead of "lost 400" and no reason.
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";

const running: RunningCli[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop("SIGKILL")));
});

/** `echoplex chat 127.0.0.1:PORT [flags] --log-level warn &`, as in README, on a free port. */
async function chatServer(...flags: string[]): Promise<number> {
  const cli = await startCli(["chat", "127.0.0.1:0", ...flags, "--log-level", "warn"]);
  running.push(cli);
  return cli.port;
}

/** The numbers of the table's `requests` row. */
function requestsRow(stdout: string): { sent: number; ok: number; lost: number } {
  const row = /^requests\s+sent ([\d,]+), replies [\d,]+, ok ([\d,]+), mismatches \d+, lost ([\d,]+)$/m.exec(
    stdout,
  );
  if (!row) throw new Error(`no requests row in:\n${stdout}`);
  const n = (s: string) => Number(s.replaceAll(",", ""));
  return { sent: n(row[1]!), ok: n(row[2]!), lost: n(row[3]!) };
}

describe("README's bench chat examples against echoplex chat", () => {
  it("under the default flood control: --rate 8 with 2 senders, every delivery made, exit 0", async () => {
    const port = await chatServer();
    const out = await runCli(
      [
        "bench",
        "chat",
        `127.0.0.1:${port}`,
        "--conns",
        "200",
        "--senders",
        "2",
        "--hello",
        "/nick u%d",
        "--rate",
        "8",
        "--requests",
        "40",
      ],
      { timeoutMs: 60_000 },
    );
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(requestsRow(out.stdout)).toEqual({ sent: 40, ok: 8000, lost: 0 });
    expect(out.stdout).toMatch(/200 receivers \(200 synced\) x 2 senders: 8,000\/8,000 delivered, missing 0/);
  });

  it("with the server's flood control off (--flood-rate 0): closed loop, exit 0", async () => {
    const port = await chatServer("--flood-rate", "0");
    const out = await runCli(
      [
        "bench",
        "chat",
        `127.0.0.1:${port}`,
        "--conns",
        "50",
        "--senders",
        "2",
        "--hello",
        "/nick u%d",
        "--requests",
        "2000",
      ],
      { timeoutMs: 90_000 },
    );
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(requestsRow(out.stdout)).toEqual({ sent: 2000, ok: 100_000, lost: 0 });
  });
});

describe("bench chat over the server's flood control", () => {
  it("closed loop against the defaults: the table, then one line saying what to do (ERR_RATE_LIMITED)", async () => {
    const port = await chatServer();
    const started = Date.now();
    const out = await runCli(
      [
        "bench",
        "chat",
        `127.0.0.1:${port}`,
        "--conns",
        "20",
        "--senders",
        "2",
        "--hello",
        "/nick u%d",
        "--requests",
        "500",
      ],
      { timeoutMs: 60_000 },
    );
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/flood-control notices \d+/);
    expect(out.stderr).toMatch(
      /^echoplex: error: the chat server's flood control dropped \d+ messages?; run with --rate 8 or lower \(its limit: 5 messages\/s per sender; 2 senders\), or start the server with --flood-rate 0 \(ERR_RATE_LIMITED\)\n$/,
    );
    // It stops at the first notice instead of sending on into a disconnect.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("open loop over the limit (--rate 40, one sender, custom limits): the hint uses the server's limit", async () => {
    const port = await chatServer("--flood-rate", "10", "--flood-burst", "5");
    const out = await runCli(
      ["bench", "chat", `127.0.0.1:${port}`, "--conns", "5", "--rate", "40", "--duration", "3s", "--json"],
      { timeoutMs: 60_000 },
    );
    expect(out.code).toBe(1);
    const result = JSON.parse(out.stdout.trim()) as { chat: { floodNotices: number; floodNotice: string } };
    expect(result.chat.floodNotices).toBeGreaterThan(0);
    expect(result.chat.floodNotice).toMatch(/^! flood control: slow down \(limit 10 messages\/s, burst 5\)/);
    expect(out.stderr).toMatch(
      /run with --rate 8 or lower \(its limit: 10 messages\/s per sender; 1 sender\)/,
    );
  });
});
