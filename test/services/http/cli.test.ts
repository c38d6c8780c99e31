// `echoplex http` as a child process, driven by curl, ab and node:http.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, runCli, startCli } from "../../helpers/cli.js";
import { httpGet } from "../../helpers/http.js";

const run = promisify(execFile);
let clis: RunningCli[] = [];

async function http(args: string[]): Promise<RunningCli> {
  const cli = await startCli(["http", "127.0.0.1:0", "--log-format", "json", ...args]);
  clis.push(cli);
  return cli;
}

afterEach(async () => {
  await Promise.all(clis.map((c) => c.stop("SIGKILL")));
  clis = [];
});

describe("echoplex http", () => {
  it("answers curl with Hello World! after the delay", async () => {
    const cli = await http(["--delay", "500ms", "--header", "X-Served-By: echoplex"]);
    expect(cli.stdout()).toMatch(/echoplex http listening on 127\.0\.0\.1:\d+ \(delay 500ms, status 200\)/);
    const started = Date.now();
    const { stdout } = await run("curl", ["-si", `http://127.0.0.1:${cli.port}/`]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toMatch(/x-served-by: echoplex\r\n/i);
    expect(stdout.endsWith("\r\n\r\nHello World!")).toBe(true);
  });

  it("serves ab -n 100 -c 10 concurrently: all succeed in about 10 x the delay", async () => {
    const cli = await http(["--delay", "300ms", "--log-level", "warn"]);
    const { stdout } = await run("ab", ["-n", "100", "-c", "10", `http://127.0.0.1:${cli.port}/`], {
      timeout: 60_000,
    });
    expect(stdout).toMatch(/Complete requests:\s+100\n/);
    expect(stdout).toMatch(/Failed requests:\s+0\n/);
    const seconds = Number(/Time taken for tests:\s+([\d.]+) seconds/.exec(stdout)?.[1]);
    // 10 rounds of 300 ms = 3 s; serially it would be 30 s.
    expect(seconds).toBeGreaterThanOrEqual(2.9);
    expect(seconds).toBeLessThan(15);
  }, 60_000);

  it("on SIGTERM answers every delayed request in flight, then exits 0", async () => {
    const cli = await http(["--delay", "4s", "--log-level", "debug"]);
    const inflight = Array.from({ length: 10 }, () => httpGet(`http://127.0.0.1:${cli.port}/`));
    // Signal once all ten are connected (each sends its request at once), not after a guessed time.
    const connects = () => cli.stderr().split('"msg":"connect"').length - 1;
    for (let i = 0; i < 200 && connects() < 10; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const code = cli.stop("SIGTERM");
    const answers = await Promise.all(inflight);
    expect(answers.map((a) => `${a.status} ${a.body}`)).toEqual(Array(10).fill("200 Hello World!"));
    expect(await code).toBe(0);
    expect(cli.stderr()).toMatch(/"inflight":10,.*"msg":"shutting down"/);
  });

  it("rejects a delay over --max-delay at start-up, naming the flag", async () => {
    const res = await runCli(["http", "127.0.0.1:0", "--delay", "2m"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^echoplex: error: delay 120s exceeds the maximum delay 60s \(raise --max-delay\)/,
    );
    const bad = await runCli(["http", "127.0.0.1:0", "--header", "no colon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`bad --header "no colon"`);
  });
});
