// --workers: a supervisor with worker processes sharing one port.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, sleep } from "../helpers/net.js";

let cli: RunningCli | undefined;
afterEach(async () => {
  await cli?.stop("SIGKILL");
  cli = undefined;
});

function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(/\s+/).map(Number);
}

/** One request on a new connection; a refused connect is retried (a worker may be restarting). */
async function echoOnce(port: number, text: string): Promise<string> {
  let c: Awaited<ReturnType<typeof connectClient>> | undefined;
  for (let attempt = 0; c === undefined; attempt++) {
    try {
      c = await connectClient(port);
    } catch (err) {
      if (attempt > 50) throw err;
      await sleep(100);
    }
  }
  c.send(text);
  const line = await c.readLine();
  c.destroy();
  return line;
}

describe("--workers", () => {
  it("serves from several processes, restarts a killed worker, drains the group on SIGTERM", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--workers", "2", "--log-format", "json"]);
    expect(cli.stdout()).toMatch(/\[2 workers\]/);
    const pid = cli.proc.pid!;
    let workers = childPids(pid);
    for (let i = 0; i < 150 && workers.length < 2; i++) {
      await sleep(100);
      workers = childPids(pid);
    }
    expect(workers).toHaveLength(2);
    // Both workers listening (each logs it), so killing one leaves the port served.
    await expect.poll(() => cli!.stderr().split('"msg":"listening"').length - 1, { timeout: 10_000 }).toBe(2);
    for (let i = 0; i < 10; i++) expect(await echoOnce(cli.port, `hello ${i}`)).toBe(`ECHO: hello ${i}`);

    process.kill(workers[0]!, "SIGKILL");
    let replaced: number[] = [];
    for (let i = 0; i < 150; i++) {
      await sleep(100);
      replaced = childPids(pid);
      if (replaced.length === 2 && !replaced.includes(workers[0]!)) break;
    }
    expect(replaced).toHaveLength(2);
    expect(replaced).not.toContain(workers[0]);
    expect(cli.stderr()).toMatch(/worker exited unexpectedly, restarting/);
    // Clients reconnect and are served (by either worker).
    for (let i = 0; i < 10; i++) expect(await echoOnce(cli.port, `again ${i}`)).toBe(`ECHO: again ${i}`);

    const open = await connectClient(cli.port);
    open.send("before");
    expect(await open.readLine()).toBe("ECHO: before");
    expect(await cli.stop("SIGTERM")).toBe(0);
    expect(await open.readToEnd()).toBe("NOTICE: server shutting down\n");
  }, 30_000);

  it("rejects a bad --workers value", async () => {
    const { runCli } = await import("../helpers/cli.js");
    const { code, stderr } = await runCli(["echo", "--workers", "zero"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad --workers "zero"/);
  });
});
