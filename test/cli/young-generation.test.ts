// Issue 19: a server that has held thousands of connections keeps a small heap. V8 would
// double its young generation to 32 MiB when connections open in a rush (most of what it
// allocates then survives) and keep it; echoplex holds it at its starting 2 MiB, unless
// the user sized it themselves. Read from the server's own metrics (prom-client's
// nodejs_heap_space_size_total_bytes), after a rush of real connections.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { metric, scrape } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";

const CONNECTIONS = 3000;
const MIB = 1024 * 1024;

let cli: RunningCli | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

/** Opens `n` connections, each echoing one line, 200 at a time; resolves when all have replied. */
async function rush(port: number, n: number): Promise<void> {
  for (let opened = 0; opened < n; opened += 200) {
    const batch = Array.from({ length: Math.min(200, n - opened) }, (_, i) => {
      return new Promise<void>((resolve, reject) => {
        const s = connect({ port, host: "127.0.0.1" }, () => s.write(`hello ${opened + i}\n`));
        sockets.push(s);
        s.once("data", () => resolve());
        s.once("error", reject);
      });
    });
    await Promise.all(batch);
  }
}

async function newSpaceAfterRush(env: NodeJS.ProcessEnv): Promise<number> {
  cli = await startCli(["echo", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--log-level", "warn"], {
    count: 2,
    env,
  });
  await rush(cli.ports.echo!, CONNECTIONS);
  const size = metric(await scrape(cli.ports.admin!), "nodejs_heap_space_size_total_bytes", {
    space: "new",
  });
  expect(size).toBeDefined();
  return size!;
}

describe("the young generation of a server process", () => {
  it(`stays at its starting 2 MiB after ${CONNECTIONS} connections open at once`, async () => {
    const size = await newSpaceAfterRush({ NODE_OPTIONS: "" });
    console.log(`new space after the rush: ${(size / MIB).toFixed(1)} MiB`);
    expect(size).toBeLessThanOrEqual(2 * MIB);
  });

  it("grows as V8 would when the user sizes it (NODE_OPTIONS=--max-semi-space-size=8)", async () => {
    // Proves the rush is big enough to grow it: the test above fails without echoplex's hold.
    const size = await newSpaceAfterRush({ NODE_OPTIONS: "--max-semi-space-size=8" });
    console.log(`new space after the rush, user-sized: ${(size / MIB).toFixed(1)} MiB`);
    expect(size).toBeGreaterThan(2 * MIB);
  });
});
