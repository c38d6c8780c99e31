// `echoplex cmd` as a child process: start-up line, a session, flags, graceful shutdown.
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startCli } from "../../helpers/cli.js";
import { connectClient } from "../../helpers/net.js";

const running: RunningCli[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop("SIGKILL")));
});

describe("echoplex cmd", () => {
  it("prints where it listens, answers commands, and on SIGTERM answers, notifies and exits 0", async () => {
    const cli = await startCli(["cmd", "127.0.0.1:0", "--log-format", "json"]);
    running.push(cli);
    expect(cli.stdout()).toMatch(/^echoplex cmd listening on 127\.0\.0\.1:\d+ \(lines\)\n/);
    const c = await connectClient(cli.port);
    c.write("upper héllo\nREVERSE abc\n");
    expect(await c.readLines(2)).toEqual(["HÉLLO", "cba"]);
    const code = cli.stop("SIGTERM");
    expect(await c.readToEnd()).toBe("NOTICE: server shutting down\n");
    expect(await code).toBe(0);
    expect(cli.stderr()).toMatch(/"msg":"shut down"/);
  });

  it("takes the shared flags: --framing length, --max-line, --idle-timeout", async () => {
    const cli = await startCli([
      "cmd",
      "127.0.0.1:0",
      "--max-line",
      "16",
      "--idle-timeout",
      "300ms",
      "--log-level",
      "warn",
    ]);
    running.push(cli);
    const long = await connectClient(cli.port);
    long.write(`ECHO ${"x".repeat(40)}\n`);
    expect(await long.readToEnd()).toBe("ERROR: line exceeds 16 bytes\n");
    const idle = await connectClient(cli.port);
    expect(await idle.readToEnd(10_000)).toBe("ERROR: idle timeout: no traffic for 300 ms, closing\n");

    const framed = await startCli(["cmd", "127.0.0.1:0", "--framing", "length", "--log-level", "warn"]);
    running.push(framed);
    const r = await runCli(["client", `127.0.0.1:${framed.port}`, "--framing", "length"], {
      input: "PING\nUPPER ok\n",
    });
    expect(r.stdout).toBe("PONG\nOK\n");
  });

  it("refuses a bad option with one line and exit 2", async () => {
    const r = await runCli(["cmd", "--framing", "xml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--framing/);
  });
});
