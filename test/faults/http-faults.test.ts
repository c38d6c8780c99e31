// Faults on the HTTP responder's answers, seen by curl: latency delays them, slice keeps
// them byte-identical, and a fault added through /api/faults reaches a live responder.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";

const run = promisify(execFile);
let cli: RunningCli | undefined;

afterEach(async () => {
  await cli?.stop();
  cli = undefined;
});

/** curl's status, body and total time (seconds) for one GET. */
async function curl(port: number, path = "/"): Promise<{ status: string; body: string; seconds: number }> {
  const { stdout } = await run("curl", [
    "-s",
    "-w",
    "\n%{http_code} %{time_total}",
    `http://127.0.0.1:${port}${path}`,
  ]);
  const cut = stdout.lastIndexOf("\n");
  const [status, seconds] = stdout.slice(cut + 1).split(" ");
  return { status: status!, body: stdout.slice(0, cut), seconds: Number(seconds) };
}

async function http(...args: string[]): Promise<RunningCli> {
  cli = await startCli(["http", "127.0.0.1:0", "--delay", "0", "--log-level", "warn", ...args], {
    count: args.includes("--admin") ? 2 : 1,
  });
  return cli;
}

describe("--fault on the HTTP responder", () => {
  it("latency=300ms delays each answer; slice=1-8 keeps it byte-identical", async () => {
    const slowed = await curl((await http("--fault", "latency=300ms")).port);
    expect(slowed).toMatchObject({ status: "200", body: "Hello World!" });
    expect(slowed.seconds).toBeGreaterThanOrEqual(0.3);
    await cli!.stop();
    const sliced = await curl((await http("--fault", "slice=1-8")).port, "/echo");
    expect(sliced.status).toBe("200");
    expect(JSON.parse(sliced.body)).toMatchObject({ method: "GET", path: "/echo" });
  });

  it("a fault added through /api/faults reaches the running responder", async () => {
    const p = await http("--admin", "0");
    expect((await curl(p.ports.http!)).seconds).toBeLessThan(0.5);
    const res = await fetch(`http://127.0.0.1:${p.ports.admin}/api/faults`, {
      method: "POST",
      body: JSON.stringify({ fault: "latency=600ms", service: "http" }),
    });
    expect(res.status).toBe(201);
    const slowed = await curl(p.ports.http!);
    expect(slowed).toMatchObject({ status: "200", body: "Hello World!" });
    expect(slowed.seconds).toBeGreaterThanOrEqual(0.6);
  });
});
